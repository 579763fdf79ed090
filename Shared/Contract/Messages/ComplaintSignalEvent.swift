/// The complaints service's word to the alerts service that a customer complained (`complaint.signal.v1`; internal).
///
/// A complaint from a valuable customer is a retention risk of its own; the alerts service weighs it with the
/// customer's scores. The complaint's text stays in the complaints service: only what the decision needs travels.
///
/// `{"schema": "complaint.signal.v1", "complaint_id": "K-7", "customer_id": "C-42", "tier": "gold",
///   "severity": "high", "received_at": "2026-11-21T09:00:00.000Z"}`
///
/// The same complaint is signalled again when the customer rates it low (`satisfaction` 1 or 2, with the rating's
/// time in `at`) and when it breaches its resolution target while open (`breached`: `resolution`, with the time in
/// `at`): the facts behind the alert reasons `dissatisfied` and `complaint_unresolved`. A signal carries at most one
/// of the two; without either it announces the complaint itself.
public struct ComplaintSignalEvent: SchemaMessage {
    /// `complaint.signal.v1`.
    public static let schema = "complaint.signal.v1"

    /// The complaint.
    public var complaintID: Identifier
    /// The complaining customer.
    public var customerID: Identifier
    /// The customer's tier when the complaint was routed; absent for a customer the system has not seen.
    public var tier: ValueTier?
    /// How serious classification found the complaint.
    public var severity: ComplaintSeverity
    /// When the complaint was received.
    public var receivedAt: Timestamp
    /// A rating of the complaint's handling, 1 (worst) to 5; present on a rating signal.
    public var satisfaction: Int?
    /// The SLA target the complaint breached; present on a breach signal.
    public var breached: SLATarget?
    /// When the rating was given or the target breached; present with either.
    public var at: Timestamp?

    /// What a signal reports.
    public enum Kind: Sendable, Equatable {
        /// A new complaint.
        case received
        /// The customer rated the complaint's handling.
        case rated(Int)
        /// The complaint breached a target.
        case breached(SLATarget)
    }

    /// What this signal reports.
    public var kind: Kind {
        if let satisfaction { return .rated(satisfaction) }
        if let breached { return .breached(breached) }
        return .received
    }

    /// Creates the event; call ``validate()`` to check it.
    public init(
        complaintID: Identifier,
        customerID: Identifier,
        tier: ValueTier? = nil,
        severity: ComplaintSeverity,
        receivedAt: Timestamp,
        satisfaction: Int? = nil,
        breached: SLATarget? = nil,
        at: Timestamp? = nil
    ) {
        self.complaintID = complaintID
        self.customerID = customerID
        self.tier = tier
        self.severity = severity
        self.receivedAt = receivedAt
        self.satisfaction = satisfaction
        self.breached = breached
        self.at = at
    }

    /// Checks the rating's range, that a signal reports one thing, and that a rating or breach has its time.
    public func validate() throws(MessageRejection) {
        try TextRules.check(
            satisfaction,
            in: 1...5,
            field: "satisfaction",
            rule: ComplaintStatusMessage.satisfactionRule
        )
        if satisfaction != nil, breached != nil {
            throw MessageRejection(.invalidValue, field: "breached", "a signal reports a rating or a breach, not both")
        }
        if satisfaction != nil || breached != nil, at == nil {
            throw MessageRejection(.missingField, field: "at", "required with satisfaction or breached")
        }
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case complaintID = "complaint_id"
        case customerID = "customer_id"
        case tier, severity
        case receivedAt = "received_at"
        case satisfaction, breached, at
    }

    /// Decodes and validates the event; ``decode(body:)`` is the entry point for raw bodies.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.requireSchema(Self.schema, key: .schema)
        complaintID = try container.required(Identifier.self, .complaintID)
        customerID = try container.required(Identifier.self, .customerID)
        tier = try container.optional(ValueTier.self, .tier)
        severity = try container.required(ComplaintSeverity.self, .severity)
        receivedAt = try container.required(Timestamp.self, .receivedAt)
        satisfaction = try container.optionalInteger(.satisfaction, rule: ComplaintStatusMessage.satisfactionRule)
        breached = try container.optional(SLATarget.self, .breached)
        at = try container.optional(Timestamp.self, .at)
        try validate(locatedAt: decoder.codingPath)
    }

    /// Encodes the event.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schema, forKey: .schema)
        try container.encode(complaintID, forKey: .complaintID)
        try container.encode(customerID, forKey: .customerID)
        try container.encodeIfPresent(tier, forKey: .tier)
        try container.encode(severity, forKey: .severity)
        try container.encode(receivedAt, forKey: .receivedAt)
        try container.encodeIfPresent(satisfaction, forKey: .satisfaction)
        try container.encodeIfPresent(breached, forKey: .breached)
        try container.encodeIfPresent(at, forKey: .at)
    }
}
