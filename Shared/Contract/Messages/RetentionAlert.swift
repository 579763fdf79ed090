/// A valuable customer at risk, for a support desk (`retention-alert.v1` on `crm.alerts`, key `retention.p1`…`p3`).
///
/// ```json
/// {"schema": "retention-alert.v1", "alert_id": "…", "customer_id": "C-42", "raised_at": "…", "priority": "p1",
///  "reasons": ["lifecycle_decline", "overdue_purchase"], "value_at_risk": "1520.00",
///  "customer": {"tier": "…", "lifecycle_stage": "decline", "clv": "…", "p_alive": 0.31, "last_order_at": "…",
///               "orders_count": 14, "expected_interval_days": 21.5, "days_since_last_order": 75},
///  "suggested_action": "…", "as_of": "…"}
/// ```
///
/// `as_of` (optional, version 2) is the scoring time the alert was evaluated at: the as-of time of a replayed
/// rescoring, else the wall clock. The observed outcome is judged from the orders after it.
public struct RetentionAlert: SchemaMessage {
    /// `retention-alert.v1`.
    public static let schema = "retention-alert.v1"

    /// The alert's identifier; feedback names it.
    public var alertID: Identifier
    /// The customer at risk.
    public var customerID: Identifier
    /// When the alert was raised.
    public var raisedAt: Timestamp
    /// `p1` for the most valuable customers at risk; selects the queue.
    public var priority: AlertPriority
    /// Why the alert was raised, e.g. `lifecycle_decline`, `overdue_purchase`; at least one, no repeats.
    public var reasons: [AlertReason]
    /// The value that would be lost with the customer.
    public var valueAtRisk: Money
    /// The figures the decision was made on.
    public var customer: CustomerValueSnapshot
    /// What the desk could do, free text; optional.
    public var suggestedAction: String?
    /// The scoring time the alert was evaluated at; optional.
    public var asOf: Timestamp?

    /// Creates an alert; call ``validate()`` to check it.
    public init(
        alertID: Identifier,
        customerID: Identifier,
        raisedAt: Timestamp,
        priority: AlertPriority,
        reasons: [AlertReason],
        valueAtRisk: Money,
        customer: CustomerValueSnapshot,
        suggestedAction: String? = nil,
        asOf: Timestamp? = nil
    ) {
        self.alertID = alertID
        self.customerID = customerID
        self.raisedAt = raisedAt
        self.priority = priority
        self.reasons = reasons
        self.valueAtRisk = valueAtRisk
        self.customer = customer
        self.suggestedAction = suggestedAction
        self.asOf = asOf
    }

    /// Checks the reasons and the customer snapshot.
    public func validate() throws(MessageRejection) {
        try ListRules.checkDistinct(reasons, field: "reasons", key: { $0 })
        do throws(MessageRejection) {
            try customer.validate()
        } catch {
            throw error.within("customer")
        }
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case alertID = "alert_id"
        case customerID = "customer_id"
        case raisedAt = "raised_at"
        case priority, reasons
        case valueAtRisk = "value_at_risk"
        case customer
        case suggestedAction = "suggested_action"
        case asOf = "as_of"
    }

    /// Decodes and validates an alert; ``decode(body:)`` is the entry point for raw bodies.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.requireSchema(Self.schema, key: .schema)
        alertID = try container.required(Identifier.self, .alertID)
        customerID = try container.required(Identifier.self, .customerID)
        raisedAt = try container.required(Timestamp.self, .raisedAt)
        priority = try container.required(AlertPriority.self, .priority)
        reasons = try container.required([AlertReason].self, .reasons)
        valueAtRisk = try container.required(Money.self, .valueAtRisk)
        customer = try container.required(CustomerValueSnapshot.self, .customer)
        suggestedAction = try container.optional(String.self, .suggestedAction)
        asOf = try container.optional(Timestamp.self, .asOf)
        try validate(locatedAt: decoder.codingPath)
    }

    /// Encodes the alert with the field names of `retention-alert.v1`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schema, forKey: .schema)
        try container.encode(alertID, forKey: .alertID)
        try container.encode(customerID, forKey: .customerID)
        try container.encode(raisedAt, forKey: .raisedAt)
        try container.encode(priority, forKey: .priority)
        try container.encode(reasons, forKey: .reasons)
        try container.encode(valueAtRisk, forKey: .valueAtRisk)
        try container.encode(customer, forKey: .customer)
        try container.encodeIfPresent(suggestedAction, forKey: .suggestedAction)
        try container.encodeIfPresent(asOf, forKey: .asOf)
    }
}
