/// A customer's value and recency as scoring last saw them: the `customer` of a retention alert.
///
/// Scoring publishes it in `customer.scored.v1` and the alerts service copies it into the alert unchanged, so a desk
/// sees exactly the figures the decision was made on. Fields are optional: a one-order customer has no
/// `expected_interval_days`, and a customer not yet fully scored may lack `p_alive`.
public struct CustomerValueSnapshot: Codable, Sendable, Hashable {
    /// The value tier, e.g. `gold`.
    public var tier: ValueTier?
    /// The lifecycle stage, e.g. `decline`.
    public var lifecycleStage: LifecycleStage?
    /// The predicted customer lifetime value.
    public var clv: Money?
    /// The probability that the customer is still active, 0...1 (BG/NBD).
    public var pAlive: Double?
    /// When the customer last ordered.
    public var lastOrderAt: Timestamp?
    /// How many orders the customer has placed.
    public var ordersCount: Int?
    /// The customer's usual time between orders, in days.
    public var expectedIntervalDays: Double?
    /// Whole days since the last order, at scoring time.
    public var daysSinceLastOrder: Int?

    /// Creates a snapshot.
    public init(
        tier: ValueTier? = nil,
        lifecycleStage: LifecycleStage? = nil,
        clv: Money? = nil,
        pAlive: Double? = nil,
        lastOrderAt: Timestamp? = nil,
        ordersCount: Int? = nil,
        expectedIntervalDays: Double? = nil,
        daysSinceLastOrder: Int? = nil
    ) {
        self.tier = tier
        self.lifecycleStage = lifecycleStage
        self.clv = clv
        self.pAlive = pAlive
        self.lastOrderAt = lastOrderAt
        self.ordersCount = ordersCount
        self.expectedIntervalDays = expectedIntervalDays
        self.daysSinceLastOrder = daysSinceLastOrder
    }

    static let probabilityRule = "must be a number from 0 to 1"
    static let countRule = "must be a whole number, 0 or more"
    static let daysRule = "must be a number of days, 0 or more"

    /// Checks labels and ranges; fields are named relative to the snapshot.
    public func validate() throws(MessageRejection) {
        try TextRules.check(pAlive, in: 0...1, field: "p_alive", rule: Self.probabilityRule)
        try TextRules.check(ordersCount, in: 0...Int.max, field: "orders_count", rule: Self.countRule)
        try TextRules.check(
            expectedIntervalDays,
            in: 0...Double.greatestFiniteMagnitude,
            field: "expected_interval_days",
            rule: Self.daysRule
        )
        try TextRules.check(daysSinceLastOrder, in: 0...Int.max, field: "days_since_last_order", rule: Self.countRule)
    }

    enum CodingKeys: String, CodingKey {
        case tier
        case lifecycleStage = "lifecycle_stage"
        case clv
        case pAlive = "p_alive"
        case lastOrderAt = "last_order_at"
        case ordersCount = "orders_count"
        case expectedIntervalDays = "expected_interval_days"
        case daysSinceLastOrder = "days_since_last_order"
    }

    /// Decodes and validates a snapshot.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        tier = try container.optional(ValueTier.self, .tier)
        lifecycleStage = try container.optional(LifecycleStage.self, .lifecycleStage)
        clv = try container.optional(Money.self, .clv)
        pAlive = try container.optionalNumber(.pAlive, rule: Self.probabilityRule)
        lastOrderAt = try container.optional(Timestamp.self, .lastOrderAt)
        ordersCount = try container.optionalInteger(.ordersCount, rule: Self.countRule)
        expectedIntervalDays = try container.optionalNumber(.expectedIntervalDays, rule: Self.daysRule)
        daysSinceLastOrder = try container.optionalInteger(.daysSinceLastOrder, rule: Self.countRule)
        do throws(MessageRejection) {
            try validate()
        } catch {
            throw error.located(at: decoder.codingPath)
        }
    }

    /// Encodes the known fields.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(tier, forKey: .tier)
        try container.encodeIfPresent(lifecycleStage, forKey: .lifecycleStage)
        try container.encodeIfPresent(clv, forKey: .clv)
        try container.encodeIfPresent(pAlive, forKey: .pAlive)
        try container.encodeIfPresent(lastOrderAt, forKey: .lastOrderAt)
        try container.encodeIfPresent(ordersCount, forKey: .ordersCount)
        try container.encodeIfPresent(expectedIntervalDays, forKey: .expectedIntervalDays)
        try container.encodeIfPresent(daysSinceLastOrder, forKey: .daysSinceLastOrder)
    }
}
