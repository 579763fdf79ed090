import CRMContract
import CRMSupport

/// Every setting of the retention-alert rules. Config key prefix `crm.alerts`.
///
/// Comparisons: p_alive low fires strictly below `pAliveLow`; the drop strictly above
/// `pAliveMaximumDrop`; overdue strictly beyond `overdueIntervalMultiple` × the own interval;
/// complaint counts and tiers are inclusive ("at or above").
public struct AlertSettings: Hashable, Sendable, Codable {
    /// Who may get alerts. Default: silver and above.
    public var eligibility: AlertEligibility
    /// `p_alive_low` when p_alive falls below this. Default 0.3.
    public var pAliveLow: Double
    /// `p_alive_drop` when p_alive falls by more than this since the previous evaluation. Default 0.2.
    ///
    /// A fitted model lowers p_alive a little every day a customer stays silent, so this catches a
    /// sudden break (a refit, a broken rhythm), and `pAliveLow` catches the slow slide.
    public var pAliveMaximumDrop: Double
    /// `overdue_purchase` when silent more than this many times the customer's own interval. Default 2.
    public var overdueIntervalMultiple: Double
    /// `overdue_purchase` also needs at least this many silent days. Default 14.
    ///
    /// Without it a weekly buyer would be chased after 15 quiet days.
    public var overdueMinimumDays: Double
    /// `overdue_purchase` needs at least this many purchases, so the interval rests on two gaps or more. Default 3.
    public var overdueMinimumOrders: Int
    /// `tier_downgrade` when a customer at or above this tier drops below their previous tier. Default gold.
    public var downgradeFromTier: ValueTier
    /// `complaint_valuable_customer` for a new complaint from a customer at or above this tier. Default gold.
    public var complaintMinimumTier: ValueTier
    /// `repeated_complaints` at this many distinct complaints within the window. Default 3.
    public var repeatedComplaintsCount: Int
    /// The window of `repeated_complaints` in days, ending now; also how far back a first evaluation looks
    /// for new complaints. Default 30.
    public var repeatedComplaintsWindowDays: Double
    /// How `value_at_risk` is measured. Default `retained_value`.
    public var valueAtRisk: ValueAtRisk
    /// Value-at-risk bands for p1..p3. Default p1 ≥ 1000, p2 ≥ 200.
    public var priority: PriorityBands

    /// Creates settings; every argument has the documented default.
    public init(
        eligibility: AlertEligibility = AlertEligibility(),
        pAliveLow: Double = 0.3,
        pAliveMaximumDrop: Double = 0.2,
        overdueIntervalMultiple: Double = 2,
        overdueMinimumDays: Double = 14,
        overdueMinimumOrders: Int = 3,
        downgradeFromTier: ValueTier = .gold,
        complaintMinimumTier: ValueTier = .gold,
        repeatedComplaintsCount: Int = 3,
        repeatedComplaintsWindowDays: Double = 30,
        valueAtRisk: ValueAtRisk = ValueAtRisk(),
        priority: PriorityBands = PriorityBands()
    ) {
        self.eligibility = eligibility
        self.pAliveLow = pAliveLow
        self.pAliveMaximumDrop = pAliveMaximumDrop
        self.overdueIntervalMultiple = overdueIntervalMultiple
        self.overdueMinimumDays = overdueMinimumDays
        self.overdueMinimumOrders = overdueMinimumOrders
        self.downgradeFromTier = downgradeFromTier
        self.complaintMinimumTier = complaintMinimumTier
        self.repeatedComplaintsCount = repeatedComplaintsCount
        self.repeatedComplaintsWindowDays = repeatedComplaintsWindowDays
        self.valueAtRisk = valueAtRisk
        self.priority = priority
    }

    /// Throws ``AlertRulesError`` for the first setting out of range.
    public func validate() throws {
        try eligibility.validate()
        try valueAtRisk.validate()
        try priority.validate()
        try AlertRulesError.require(pAliveLow > 0 && pAliveLow <= 1, "pAliveLow must be in (0, 1], got \(pAliveLow)")
        try AlertRulesError.require(
            pAliveMaximumDrop > 0 && pAliveMaximumDrop < 1,
            "pAliveMaximumDrop must be in (0, 1), got \(pAliveMaximumDrop)"
        )
        try AlertRulesError.require(
            overdueIntervalMultiple >= 1 && overdueMinimumDays >= 0 && overdueMinimumOrders >= 2,
            "need overdueIntervalMultiple ≥ 1, overdueMinimumDays ≥ 0 and overdueMinimumOrders ≥ 2"
        )
        try AlertRulesError.require(
            repeatedComplaintsCount >= 2 && repeatedComplaintsWindowDays > 0,
            "need repeatedComplaintsCount ≥ 2 and repeatedComplaintsWindowDays > 0"
        )
    }
}

// MARK: - Decoding with defaults

extension AlertSettings {
    /// Decodes settings; a missing key keeps its documented default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = AlertSettings()
        self.init(
            eligibility: try container.decode(.eligibility, default: defaults.eligibility),
            pAliveLow: try container.decode(.pAliveLow, default: defaults.pAliveLow),
            pAliveMaximumDrop: try container.decode(.pAliveMaximumDrop, default: defaults.pAliveMaximumDrop),
            overdueIntervalMultiple: try container.decode(
                .overdueIntervalMultiple,
                default: defaults.overdueIntervalMultiple
            ),
            overdueMinimumDays: try container.decode(.overdueMinimumDays, default: defaults.overdueMinimumDays),
            overdueMinimumOrders: try container.decode(.overdueMinimumOrders, default: defaults.overdueMinimumOrders),
            downgradeFromTier: try container.decode(.downgradeFromTier, default: defaults.downgradeFromTier),
            complaintMinimumTier: try container.decode(.complaintMinimumTier, default: defaults.complaintMinimumTier),
            repeatedComplaintsCount: try container.decode(
                .repeatedComplaintsCount,
                default: defaults.repeatedComplaintsCount
            ),
            repeatedComplaintsWindowDays: try container.decode(
                .repeatedComplaintsWindowDays,
                default: defaults.repeatedComplaintsWindowDays
            ),
            valueAtRisk: try container.decode(.valueAtRisk, default: defaults.valueAtRisk),
            priority: try container.decode(.priority, default: defaults.priority)
        )
    }
}
