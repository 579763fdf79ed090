import CRMSupport
import Foundation

/// A warning to a desk that one of its complaints is about to breach an SLA target (`complaint-sla-warning.v1`).
///
/// Published on `crm.desks` with the desk's own routing key `desk.<desk>`, once per complaint and target, when the
/// target's clock has run `warning_fraction` of it (default 80%) and is still running. Only `crm-complaints`
/// publishes it; desks tell it from a routed complaint by `schema`.
///
/// ```json
/// {"schema": "complaint-sla-warning.v1", "complaint_id": "K-7", "customer_id": "C-42", "desk": "logistics",
///  "category": "delivery", "severity": "medium", "priority": "p2", "target": "first_response",
///  "due_at": "2026-11-21T10:00:00.000Z", "warned_at": "2026-11-21T09:48:00.000Z", "escalation_level": 0}
/// ```
public struct SLAWarningMessage: SchemaMessage {
    /// `complaint-sla-warning.v1`.
    public static let schema = "complaint-sla-warning.v1"

    /// The complaint at risk.
    public var complaintID: Identifier
    /// Its customer.
    public var customerID: Identifier
    /// The desk it was routed to.
    public var desk: String
    /// Its category.
    public var category: String
    /// Its severity.
    public var severity: ComplaintSeverity
    /// Its priority.
    public var priority: ComplaintPriority
    /// `first_response` or `resolution`.
    public var target: SLATarget
    /// When the target is breached if the clock keeps running.
    public var dueAt: Timestamp
    /// When the warning was raised.
    public var warnedAt: Timestamp
    /// The escalation level the complaint is at now.
    public var escalationLevel: Int

    /// Creates a warning.
    public init(
        complaintID: Identifier,
        customerID: Identifier,
        desk: String,
        category: String,
        severity: ComplaintSeverity,
        priority: ComplaintPriority,
        target: SLATarget,
        dueAt: Timestamp,
        warnedAt: Timestamp,
        escalationLevel: Int
    ) {
        self.complaintID = complaintID
        self.customerID = customerID
        self.desk = desk
        self.category = category
        self.severity = severity
        self.priority = priority
        self.target = target
        self.dueAt = dueAt
        self.warnedAt = warnedAt
        self.escalationLevel = escalationLevel
    }

    /// Checks the level; the other fields come from a validated routed complaint.
    public func validate() throws(MessageRejection) {
        guard escalationLevel >= 0 else {
            throw MessageRejection(.invalidValue, field: "escalation_level", "must be 0 or more")
        }
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case complaintID = "complaint_id"
        case customerID = "customer_id"
        case desk, category, severity, priority, target
        case dueAt = "due_at"
        case warnedAt = "warned_at"
        case escalationLevel = "escalation_level"
    }

    /// Decodes a warning (desks and tests).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let schema = try container.decode(String.self, forKey: .schema)
        guard schema == Self.schema else {
            throw MessageRejection(.unknownSchema, field: "schema", "expected \(Self.schema)")
        }
        complaintID = try container.decode(Identifier.self, forKey: .complaintID)
        customerID = try container.decode(Identifier.self, forKey: .customerID)
        desk = try container.decode(String.self, forKey: .desk)
        category = try container.decode(String.self, forKey: .category)
        severity = try container.decode(ComplaintSeverity.self, forKey: .severity)
        priority = try container.decode(ComplaintPriority.self, forKey: .priority)
        target = try container.decode(SLATarget.self, forKey: .target)
        dueAt = try container.decode(Timestamp.self, forKey: .dueAt)
        warnedAt = try container.decode(Timestamp.self, forKey: .warnedAt)
        escalationLevel = try container.decode(Int.self, forKey: .escalationLevel)
        try validate()
    }

    /// Encodes with the field names above.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schema, forKey: .schema)
        try container.encode(complaintID, forKey: .complaintID)
        try container.encode(customerID, forKey: .customerID)
        try container.encode(desk, forKey: .desk)
        try container.encode(category, forKey: .category)
        try container.encode(severity, forKey: .severity)
        try container.encode(priority, forKey: .priority)
        try container.encode(target, forKey: .target)
        try container.encode(dueAt, forKey: .dueAt)
        try container.encode(warnedAt, forKey: .warnedAt)
        try container.encode(escalationLevel, forKey: .escalationLevel)
    }
}
