/// The complaints service's word to the alerts service that a customer complained (`complaint.signal.v1`; internal).
///
/// A complaint from a valuable customer is a retention risk of its own; the alerts service weighs it with the
/// customer's scores. The complaint's text stays in the complaints service: only what the decision needs travels.
///
/// `{"schema": "complaint.signal.v1", "complaint_id": "K-7", "customer_id": "C-42", "tier": "gold",
///   "severity": "high", "received_at": "2026-11-21T09:00:00.000Z"}`
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

    /// Creates the event; call ``validate()`` to check it.
    public init(
        complaintID: Identifier,
        customerID: Identifier,
        tier: ValueTier? = nil,
        severity: ComplaintSeverity,
        receivedAt: Timestamp
    ) {
        self.complaintID = complaintID
        self.customerID = customerID
        self.tier = tier
        self.severity = severity
        self.receivedAt = receivedAt
    }

    /// Checks the tier label.
    public func validate() throws(MessageRejection) {
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case complaintID = "complaint_id"
        case customerID = "customer_id"
        case tier, severity
        case receivedAt = "received_at"
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
    }
}
