/// A desk's answer to a retention alert (`alert-feedback.v1`, routing key `alert.v1.feedback` on `crm.alerts`).
///
/// `{"schema": "alert-feedback.v1", "alert_id": "…", "status": "resolved", "outcome": "lost",
///   "churn_type": "active", "churn_cause": "service_failure", "at": "…", "agent": "…", "note": "…"}`
///
/// `churn_type` and `churn_cause` are optional (version 2) and meaningful with the outcome `lost`; an unknown word
/// in either is refused naming the field.
public struct AlertFeedback: SchemaMessage {
    /// `alert-feedback.v1`.
    public static let schema = "alert-feedback.v1"

    /// Where the alert stands at the desk.
    public enum Status: String, MessageVocabulary {
        /// Someone has taken it.
        case acknowledged
        /// Closed, with an outcome.
        case resolved
    }

    /// What became of the customer.
    public enum Outcome: String, MessageVocabulary {
        /// The customer stayed.
        case retained
        /// The customer left.
        case lost
        /// The desk did not reach the customer.
        case notContacted = "not_contacted"
    }

    /// The alert answered.
    public var alertID: Identifier
    /// Its status at the desk.
    public var status: Status
    /// What became of the customer; optional, usually sent with `resolved`.
    public var outcome: Outcome?
    /// How a lost customer left; optional.
    public var churnType: ChurnType?
    /// Why a lost customer left; optional.
    public var churnCause: ChurnCause?
    /// When the desk recorded this.
    public var at: Timestamp
    /// Who did, e.g. an agent's login; optional.
    public var agent: String?
    /// A free-text note; optional.
    public var note: String?

    /// Creates feedback; call ``validate()`` to check it.
    public init(
        alertID: Identifier,
        status: Status,
        outcome: Outcome? = nil,
        churnType: ChurnType? = nil,
        churnCause: ChurnCause? = nil,
        at: Timestamp,
        agent: String? = nil,
        note: String? = nil
    ) {
        self.alertID = alertID
        self.status = status
        self.outcome = outcome
        self.churnType = churnType
        self.churnCause = churnCause
        self.at = at
        self.agent = agent
        self.note = note
    }

    /// Checks the agent label.
    public func validate() throws(MessageRejection) {
        try TextRules.check(label: agent, field: "agent")
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case alertID = "alert_id"
        case status, outcome
        case churnType = "churn_type"
        case churnCause = "churn_cause"
        case at, agent, note
    }

    /// Decodes and validates feedback; ``decode(body:)`` is the entry point for raw bodies.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.requireSchema(Self.schema, key: .schema)
        alertID = try container.required(Identifier.self, .alertID)
        status = try container.required(Status.self, .status)
        outcome = try container.optional(Outcome.self, .outcome)
        churnType = try container.optional(ChurnType.self, .churnType)
        churnCause = try container.optional(ChurnCause.self, .churnCause)
        at = try container.required(Timestamp.self, .at)
        agent = try container.optional(String.self, .agent)
        note = try container.optional(String.self, .note)
        try validate(locatedAt: decoder.codingPath)
    }

    /// Encodes the feedback with the field names of `alert-feedback.v1`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schema, forKey: .schema)
        try container.encode(alertID, forKey: .alertID)
        try container.encode(status, forKey: .status)
        try container.encodeIfPresent(outcome, forKey: .outcome)
        try container.encodeIfPresent(churnType, forKey: .churnType)
        try container.encodeIfPresent(churnCause, forKey: .churnCause)
        try container.encode(at, forKey: .at)
        try container.encodeIfPresent(agent, forKey: .agent)
        try container.encodeIfPresent(note, forKey: .note)
    }
}
