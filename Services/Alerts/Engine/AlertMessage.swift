import CRMContract
import CRMSupport
import Foundation

/// The body published for an alert: `retention-alert.v1` with one extra, optional field, `evidence`.
///
/// `evidence` lists, per reason, the numbers behind it (the stage it moved from, p_alive before and after, the
/// silence against the own interval, the complaint ids, the thresholds in force), so a desk agent can see why
/// without asking. Consumers that do not know the field ignore it; it is documented in docs/asyncapi.yaml.
///
/// ```json
/// "evidence": [{"reason": "lifecycle_decline", "from_stage": "maturity", "to_stage": "decline"},
///              {"reason": "overdue_purchase", "days_since_last_order": 75.0, "expected_interval_days": 21.5,
///               "interval_multiple": 2.0}]
/// ```
struct AlertMessage: Encodable {
    let alert: RetentionAlert
    let evidence: [EvidenceRecord]

    private enum Key: String, CodingKey { case evidence }

    func encode(to encoder: any Encoder) throws {
        try alert.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(evidence, forKey: .evidence)
    }

    /// Validates the alert and encodes the body: UTF-8 JSON with sorted keys, like every message.
    func body() throws -> Data {
        try alert.validate()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// The JSON of the evidence alone, as `retention_alerts.evidence` stores it.
    static func evidenceJSON(_ evidence: [EvidenceRecord]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(evidence), as: UTF8.self)
    }
}

/// One reason of an alert with the numbers behind it, flattened into snake_case fields.
struct EvidenceRecord: Encodable, Hashable, Sendable {
    /// A field's value.
    enum Value: Encodable, Hashable, Sendable {
        case number(Double)
        case integer(Int)
        case text(String)
        case texts([String])
        case null

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .number(let value): try container.encode((value * 10_000).rounded() / 10_000)
            case .integer(let value): try container.encode(value)
            case .text(let value): try container.encode(value)
            case .texts(let value): try container.encode(value)
            case .null: try container.encodeNil()
            }
        }
    }

    var reason: AlertReason
    var fields: [String: Value]

    init(_ finding: AlertFinding) {
        reason = finding.reason
        switch finding.evidence {
        case .stageEntered(let from, let to):
            fields = ["from_stage": from.map { .text($0.rawValue) } ?? .null, "to_stage": .text(to.rawValue)]
        case .pAliveBelow(let pAlive, let previous, let threshold):
            fields = [
                "p_alive": .number(pAlive), "previous_p_alive": previous.map(Value.number) ?? .null,
                "threshold": .number(threshold),
            ]
        case .pAliveDropped(let from, let to, let maximumDrop):
            fields = ["from_p_alive": .number(from), "to_p_alive": .number(to), "maximum_drop": .number(maximumDrop)]
        case .overdue(let silence, let interval, let multiple):
            fields = [
                "days_since_last_order": .number(silence), "expected_interval_days": .number(interval),
                "interval_multiple": .number(multiple),
            ]
        case .tierDowngraded(let from, let to):
            fields = ["from_tier": .text(from.rawValue), "to_tier": .text(to.rawValue)]
        case .complaintReceived(let ids, let tier):
            fields = ["complaint_ids": .texts(ids), "tier": .text(tier.rawValue)]
        case .complaintsInWindow(let count, let windowDays):
            fields = ["complaints": .integer(count), "window_days": .number(windowDays)]
        case .ratedLow(let id, let rating):
            fields = ["complaint_id": .text(id), "satisfaction": .integer(rating)]
        case .targetBreached(let id, let target):
            fields = ["complaint_id": .text(id), "breached_target": .text(target.rawValue)]
        }
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(reason.rawValue, forKey: Key(stringValue: "reason"))
        for (name, value) in fields {
            try container.encode(value, forKey: Key(stringValue: name))
        }
    }
}
