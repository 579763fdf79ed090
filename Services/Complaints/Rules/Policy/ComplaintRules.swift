import CRMSupport
import Foundation

/// The whole complaint rules document: `deploy/complaint-rules.json`, and the same JSON when stored in the database.
///
/// ```json
/// {"version": 1,
///  "classification": {"min_score": 2, "default_severity": "low", "categories": [...],
///                     "severity_signals": [...], "repeat": {...}},
///  "priority": {"gold": {"critical": "p1", ...}, ...},
///  "desks": [{"name": "billing", "business_hours": {...}}, ...],
///  "routing": {"default_desk": "general", "rules": [...]},
///  "sla": {"targets": {"p1": {...}, ...}, "warning_fraction": 0.8, "max_escalation_level": 3}}
/// ```
/// Decoding only reads the shape; `ComplaintPolicy(rules:)` checks the meaning and compiles it.
public struct ComplaintRules: Codable, Hashable, Sendable {
    /// The document format this code reads.
    public static let currentVersion = 1

    /// The document format. Key `version`, must be 1.
    public var version: Int
    /// How complaints are classified.
    public var classification: ClassificationRules
    /// Priority by tier and severity. Default `PriorityPolicy.standard`.
    public var priority: PriorityPolicy
    /// The desks; each gets a queue `desk.<name>`.
    public var desks: [Desk]
    /// Which desk gets which complaint.
    public var routing: RoutingTable
    /// SLA targets and escalation settings.
    public var sla: SLAPolicy

    /// Creates a rules document.
    public init(
        classification: ClassificationRules,
        priority: PriorityPolicy = .standard,
        desks: [Desk],
        routing: RoutingTable,
        sla: SLAPolicy
    ) {
        self.version = Self.currentVersion
        self.classification = classification
        self.priority = priority
        self.desks = desks
        self.routing = routing
        self.sla = sla
    }

    enum CodingKeys: String, CodingKey {
        case version, classification, priority, desks, routing, sla
    }

    /// Decodes, with the standard priority table when `priority` is left out.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decode(Int.self, forKey: .version)
        classification = try container.decode(ClassificationRules.self, forKey: .classification)
        priority = try container.decodeIfPresent(PriorityPolicy.self, forKey: .priority) ?? .standard
        desks = try container.decode([Desk].self, forKey: .desks)
        routing = try container.decode(RoutingTable.self, forKey: .routing)
        sla = try container.decode(SLAPolicy.self, forKey: .sla)
    }
}
