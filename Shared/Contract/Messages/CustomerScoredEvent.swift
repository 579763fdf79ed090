/// Scoring's word that a customer was scored (`customer.scored.v1`; internal, not in the public spec).
///
/// Carries everything the alerts service needs to decide on and word a retention alert without reading scoring's
/// tables: the stage before and after (a move into `decline` is a reason), and the snapshot that becomes the
/// alert's `customer`. Value at risk is computed by the alerts service from `customer.clv`, `customer.p_alive`
/// and the recency fields, so its policy can change without touching scoring.
///
/// ```json
/// {"schema": "customer.scored.v1", "customer_id": "C-42", "previous_lifecycle_stage": "active",
///  "previous_tier": "gold", "customer": {"tier": "gold", "lifecycle_stage": "decline", "clv": "1520.00",
///  "p_alive": 0.31, "last_order_at": "…", "orders_count": 14, "expected_interval_days": 21.5,
///  "days_since_last_order": 75}, "expected_purchases_90d": 0.4, "scored_at": "…"}
/// ```
public struct CustomerScoredEvent: SchemaMessage {
    /// `customer.scored.v1`.
    public static let schema = "customer.scored.v1"

    /// The customer scored.
    public var customerID: Identifier
    /// The lifecycle stage before this scoring; absent the first time.
    public var previousLifecycleStage: LifecycleStage?
    /// The tier before this scoring; absent the first time.
    public var previousTier: ValueTier?
    /// The current figures: `tier`, `lifecycle_stage`, `clv` (predicted) and `p_alive` are required here.
    public var customer: CustomerValueSnapshot
    /// Expected purchases in the next 90 days (BG/NBD); optional.
    public var expectedPurchases90d: Double?
    /// The as-of time of the scoring: the wall clock, or the `--as-of` time of a replay.
    public var scoredAt: Timestamp

    /// Creates the event; call ``validate()`` to check it.
    public init(
        customerID: Identifier,
        previousLifecycleStage: LifecycleStage? = nil,
        previousTier: ValueTier? = nil,
        customer: CustomerValueSnapshot,
        expectedPurchases90d: Double? = nil,
        scoredAt: Timestamp
    ) {
        self.customerID = customerID
        self.previousLifecycleStage = previousLifecycleStage
        self.previousTier = previousTier
        self.customer = customer
        self.expectedPurchases90d = expectedPurchases90d
        self.scoredAt = scoredAt
    }

    /// Checks the labels, the snapshot and that its scoring results are present.
    public func validate() throws(MessageRejection) {
        let rule = "must be a number of purchases, 0 or more"
        try TextRules.check(
            expectedPurchases90d,
            in: 0...Double.greatestFiniteMagnitude,
            field: "expected_purchases_90d",
            rule: rule
        )
        let required: [(String, Bool)] = [
            ("tier", customer.tier != nil), ("lifecycle_stage", customer.lifecycleStage != nil),
            ("clv", customer.clv != nil), ("p_alive", customer.pAlive != nil),
        ]
        for (field, present) in required where !present {
            throw MessageRejection(.missingField, field: "customer." + field, "missing")
        }
        do throws(MessageRejection) {
            try customer.validate()
        } catch {
            throw error.within("customer")
        }
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case customerID = "customer_id"
        case previousLifecycleStage = "previous_lifecycle_stage"
        case previousTier = "previous_tier"
        case customer
        case expectedPurchases90d = "expected_purchases_90d"
        case scoredAt = "scored_at"
    }

    /// Decodes and validates the event; ``decode(body:)`` is the entry point for raw bodies.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.requireSchema(Self.schema, key: .schema)
        customerID = try container.required(Identifier.self, .customerID)
        previousLifecycleStage = try container.optional(LifecycleStage.self, .previousLifecycleStage)
        previousTier = try container.optional(ValueTier.self, .previousTier)
        customer = try container.required(CustomerValueSnapshot.self, .customer)
        expectedPurchases90d = try container.optionalNumber(.expectedPurchases90d, rule: "must be a number")
        scoredAt = try container.required(Timestamp.self, .scoredAt)
        try validate(locatedAt: decoder.codingPath)
    }

    /// Encodes the event.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schema, forKey: .schema)
        try container.encode(customerID, forKey: .customerID)
        try container.encodeIfPresent(previousLifecycleStage, forKey: .previousLifecycleStage)
        try container.encodeIfPresent(previousTier, forKey: .previousTier)
        try container.encode(customer, forKey: .customer)
        try container.encodeIfPresent(expectedPurchases90d, forKey: .expectedPurchases90d)
        try container.encode(scoredAt, forKey: .scoredAt)
    }
}
