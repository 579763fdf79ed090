/// A desk's update on a complaint (`complaint-status.v1`, routing key `complaint.v1.status` on `crm.complaints`).
///
/// `{"schema": "complaint-status.v1", "complaint_id": "K-7", "status": "resolved", "at": "2026-11-21T11:00:00Z",
///   "agent": "desk-7", "resolution": "Parcel resent", "satisfaction": 4}`
public struct ComplaintStatusMessage: SchemaMessage {
    /// `complaint-status.v1`.
    public static let schema = "complaint-status.v1"

    /// The rule for `satisfaction`, also its rejection text.
    static let satisfactionRule = "must be an integer from 1 to 5"

    /// The complaint updated.
    public var complaintID: Identifier
    /// Its new status.
    public var status: ComplaintStatus
    /// When the status changed.
    public var at: Timestamp
    /// Who changed it, e.g. an agent's login; optional.
    public var agent: String?
    /// How it was resolved, free text; optional.
    public var resolution: String?
    /// The customer's satisfaction, 1 (worst) to 5 (best); optional.
    public var satisfaction: Int?

    /// Creates a status update; call ``validate()`` to check it.
    public init(
        complaintID: Identifier,
        status: ComplaintStatus,
        at: Timestamp,
        agent: String? = nil,
        resolution: String? = nil,
        satisfaction: Int? = nil
    ) {
        self.complaintID = complaintID
        self.status = status
        self.at = at
        self.agent = agent
        self.resolution = resolution
        self.satisfaction = satisfaction
    }

    /// Checks the agent label and the satisfaction range.
    public func validate() throws(MessageRejection) {
        try TextRules.check(label: agent, field: "agent")
        try TextRules.check(satisfaction, in: 1...5, field: "satisfaction", rule: Self.satisfactionRule)
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case complaintID = "complaint_id"
        case status, at, agent, resolution, satisfaction
    }

    /// Decodes and validates a status update; ``decode(body:)`` is the entry point for raw bodies.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.requireSchema(Self.schema, key: .schema)
        complaintID = try container.required(Identifier.self, .complaintID)
        status = try container.required(ComplaintStatus.self, .status)
        at = try container.required(Timestamp.self, .at)
        agent = try container.optional(String.self, .agent)
        resolution = try container.optional(String.self, .resolution)
        satisfaction = try container.optionalInteger(.satisfaction, rule: Self.satisfactionRule)
        try validate(locatedAt: decoder.codingPath)
    }

    /// Encodes the update with the field names of `complaint-status.v1`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schema, forKey: .schema)
        try container.encode(complaintID, forKey: .complaintID)
        try container.encode(status, forKey: .status)
        try container.encode(at, forKey: .at)
        try container.encodeIfPresent(agent, forKey: .agent)
        try container.encodeIfPresent(resolution, forKey: .resolution)
        try container.encodeIfPresent(satisfaction, forKey: .satisfaction)
    }
}
