import CRMContract

/// Thresholds of the lifecycle rules. Config key prefix `crm.scoring.lifecycle`.
///
/// Comparisons: p_alive rules fire strictly below their threshold, the p_alive drop strictly
/// above its amount, silence rules strictly beyond their days; trend ratios are inclusive.
public struct LifecycleSettings: Hashable, Sendable, Codable {
    /// Termination when p_alive < this. Default 0.2.
    public var terminationPAlive: Double
    /// Decline when p_alive < this. Default 0.5.
    public var declinePAlive: Double
    /// Decline when p_alive fell by more than this since the previous scoring. Default 0.2.
    public var declinePAliveDrop: Double
    /// Termination when silent more than this many times the customer's own interval. Default 4.
    public var terminationIntervalMultiple: Double
    /// Decline when silent more than this many times the customer's own interval. Default 2.
    public var declineIntervalMultiple: Double
    /// The own-interval rules need at least this many silent days, so a daily buyer is not lost in a week. Default 30.
    public var intervalRuleMinimumSilenceDays: Double
    /// The own-interval rules need at least this many repeat purchases; one gap is an anecdote. Default 2.
    public var intervalRuleMinimumRepeats: Int
    /// Decline when silent more than this many days, whatever the rhythm. Default 365.
    ///
    /// BG/NBD's p_alive stays 1 for one-time buyers, so under it silence is the only sign they are leaving;
    /// MBG/NBD and Pareto/NBD lower their p_alive as the silence grows.
    public var declineSilenceDays: Double
    /// Termination when silent more than this many days, whatever the rhythm. Default 730.
    public var terminationSilenceDays: Double
    /// A rate at least this many times the earlier one is rising, at most its inverse falling. Default 1.5.
    public var trendRatio: Double
    /// Trends need at least this many purchases in the earlier window. Default 2.
    public var trendMinimumEarlierPurchases: Int
    /// Shortest recent window in days. Default 180.
    public var recentWindowMinimumDays: Double
    /// The recent window spans at least this many of the customer's own intervals. Default 2.
    public var recentWindowIntervals: Double
    /// Maturity needs at least this value tier: the "high share of value". Default silver (top half).
    public var maturityMinimumTier: ValueTier

    /// Creates settings; every argument has the documented default.
    public init(
        terminationPAlive: Double = 0.2,
        declinePAlive: Double = 0.5,
        declinePAliveDrop: Double = 0.2,
        terminationIntervalMultiple: Double = 4,
        declineIntervalMultiple: Double = 2,
        intervalRuleMinimumSilenceDays: Double = 30,
        intervalRuleMinimumRepeats: Int = 2,
        declineSilenceDays: Double = 365,
        terminationSilenceDays: Double = 730,
        trendRatio: Double = 1.5,
        trendMinimumEarlierPurchases: Int = 2,
        recentWindowMinimumDays: Double = 180,
        recentWindowIntervals: Double = 2,
        maturityMinimumTier: ValueTier = .silver
    ) {
        self.terminationPAlive = terminationPAlive
        self.declinePAlive = declinePAlive
        self.declinePAliveDrop = declinePAliveDrop
        self.terminationIntervalMultiple = terminationIntervalMultiple
        self.declineIntervalMultiple = declineIntervalMultiple
        self.intervalRuleMinimumSilenceDays = intervalRuleMinimumSilenceDays
        self.intervalRuleMinimumRepeats = intervalRuleMinimumRepeats
        self.declineSilenceDays = declineSilenceDays
        self.terminationSilenceDays = terminationSilenceDays
        self.trendRatio = trendRatio
        self.trendMinimumEarlierPurchases = trendMinimumEarlierPurchases
        self.recentWindowMinimumDays = recentWindowMinimumDays
        self.recentWindowIntervals = recentWindowIntervals
        self.maturityMinimumTier = maturityMinimumTier
    }

    /// The recent window for a customer: at least `recentWindowMinimumDays`, and long enough to hold
    /// `recentWindowIntervals` of their own gaps, so a customer who buys twice a year is not "falling"
    /// merely because a half-year window caught none of their purchases.
    public func recentWindowDays(expectedIntervalDays: Double?) -> Double {
        guard let interval = expectedIntervalDays, interval.isFinite, interval > 0 else {
            return recentWindowMinimumDays
        }
        return max(recentWindowMinimumDays, recentWindowIntervals * interval)
    }

    /// Throws ``ScoringRulesError`` unless thresholds are in range and termination is stricter than decline.
    public func validate() throws {
        try ScoringRulesError.require(
            0 < terminationPAlive && terminationPAlive <= declinePAlive && declinePAlive <= 1,
            "need 0 < terminationPAlive ≤ declinePAlive ≤ 1, got \(terminationPAlive) and \(declinePAlive)"
        )
        try ScoringRulesError.require(
            declinePAliveDrop > 0 && declinePAliveDrop < 1,
            "declinePAliveDrop must be in (0, 1), got \(declinePAliveDrop)"
        )
        try ScoringRulesError.require(
            1 <= declineIntervalMultiple && declineIntervalMultiple <= terminationIntervalMultiple,
            "need 1 ≤ declineIntervalMultiple ≤ terminationIntervalMultiple, got "
                + "\(declineIntervalMultiple) and \(terminationIntervalMultiple)"
        )
        try ScoringRulesError.require(
            0 < declineSilenceDays && declineSilenceDays <= terminationSilenceDays,
            "need 0 < declineSilenceDays ≤ terminationSilenceDays, got "
                + "\(declineSilenceDays) and \(terminationSilenceDays)"
        )
        try ScoringRulesError.require(
            intervalRuleMinimumSilenceDays >= 0 && intervalRuleMinimumRepeats >= 1,
            "intervalRuleMinimumSilenceDays must be ≥ 0 and intervalRuleMinimumRepeats ≥ 1"
        )
        try ScoringRulesError.require(trendRatio > 1, "trendRatio must be > 1, got \(trendRatio)")
        try ScoringRulesError.require(
            trendMinimumEarlierPurchases >= 1 && recentWindowMinimumDays > 0 && recentWindowIntervals >= 0,
            "trendMinimumEarlierPurchases must be ≥ 1, recentWindowMinimumDays > 0, recentWindowIntervals ≥ 0"
        )
    }
}

// MARK: - Decoding with defaults

extension LifecycleSettings {
    /// Decodes settings; a missing key keeps its documented default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = LifecycleSettings()
        self.init(
            terminationPAlive: try container.decode(.terminationPAlive, default: defaults.terminationPAlive),
            declinePAlive: try container.decode(.declinePAlive, default: defaults.declinePAlive),
            declinePAliveDrop: try container.decode(.declinePAliveDrop, default: defaults.declinePAliveDrop),
            terminationIntervalMultiple: try container.decode(
                .terminationIntervalMultiple,
                default: defaults.terminationIntervalMultiple
            ),
            declineIntervalMultiple: try container.decode(
                .declineIntervalMultiple,
                default: defaults.declineIntervalMultiple
            ),
            intervalRuleMinimumSilenceDays: try container.decode(
                .intervalRuleMinimumSilenceDays,
                default: defaults.intervalRuleMinimumSilenceDays
            ),
            intervalRuleMinimumRepeats: try container.decode(
                .intervalRuleMinimumRepeats,
                default: defaults.intervalRuleMinimumRepeats
            ),
            declineSilenceDays: try container.decode(.declineSilenceDays, default: defaults.declineSilenceDays),
            terminationSilenceDays: try container.decode(
                .terminationSilenceDays,
                default: defaults.terminationSilenceDays
            ),
            trendRatio: try container.decode(.trendRatio, default: defaults.trendRatio),
            trendMinimumEarlierPurchases: try container.decode(
                .trendMinimumEarlierPurchases,
                default: defaults.trendMinimumEarlierPurchases
            ),
            recentWindowMinimumDays: try container.decode(
                .recentWindowMinimumDays,
                default: defaults.recentWindowMinimumDays
            ),
            recentWindowIntervals: try container.decode(
                .recentWindowIntervals,
                default: defaults.recentWindowIntervals
            ),
            maturityMinimumTier: try container.decode(.maturityMinimumTier, default: defaults.maturityMinimumTier)
        )
    }
}
