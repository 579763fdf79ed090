import Foundation
import Testing

@testable import CRMContract
@testable import CRMSupport

/// Bodies built from the spec's examples, with fields replaced or removed as raw JSON text.
///
/// Raw text rather than `JSONSerialization`: the tests need bodies it cannot write (duplicate keys, `1e400`,
/// numbers with exact digits, broken syntax).
enum Fixture {
    typealias Fields = [(key: String, json: String)]

    static let order: Fields = [
        ("schema", #""order.v1""#), ("order_id", #""A-1001""#), ("customer_id", #""C-42""#),
        ("occurred_at", #""2026-11-20T10:15:00+08:00""#), ("kind", #""purchase""#), ("amount", #""129.90""#),
        ("currency", #""CNY""#), ("cost", #""80.10""#), ("channel", #""web""#),
        ("customer", #"{"name": "Li Lei", "email": "li@example.com", "region": "east", "type": "final"}"#),
        ("items", #"[{"sku": "SKU-1", "quantity": 2, "unit_price": "64.95", "category": "books"}]"#),
    ]

    static let complaint: Fields = [
        ("schema", #""complaint.v1""#), ("complaint_id", #""K-7""#), ("customer_id", #""C-42""#),
        ("received_at", #""2026-11-21T09:00:00Z""#), ("channel", #""email""#),
        ("subject", #""Parcel never arrived""#), ("body", #""…""#), ("order_id", #""A-1001""#),
        ("category_hint", "null"), ("language", #""en""#),
    ]

    static let complaintStatus: Fields = [
        ("schema", #""complaint-status.v1""#), ("complaint_id", #""K-7""#), ("status", #""resolved""#),
        ("at", #""2026-11-21T11:00:00+01:00""#), ("agent", #""agent-17""#),
        ("resolution", #""Parcel resent""#), ("satisfaction", "4"),
    ]

    static let retentionAlert: Fields = [
        ("schema", #""retention-alert.v1""#), ("alert_id", #""R-9""#), ("customer_id", #""C-42""#),
        ("raised_at", #""2026-12-01T08:00:00Z""#), ("priority", #""p1""#),
        ("reasons", #"["lifecycle_decline", "overdue_purchase"]"#), ("value_at_risk", #""1520.00""#),
        (
            "customer",
            #"{"tier": "gold", "lifecycle_stage": "decline", "clv": "2200.50", "p_alive": 0.31, "#
                + #""last_order_at": "2026-09-17T12:00:00Z", "orders_count": 14, "expected_interval_days": 21.5, "#
                + #""days_since_last_order": 75}"#
        ),
        ("suggested_action", #""Call with a loyalty offer""#),
    ]

    static let alertFeedback: Fields = [
        ("schema", #""alert-feedback.v1""#), ("alert_id", #""R-9""#), ("status", #""resolved""#),
        ("outcome", #""retained""#), ("at", #""2026-12-02T10:00:00Z""#), ("agent", #""agent-17""#),
        ("note", #""Accepted the offer""#),
    ]

    /// The fields as a JSON object, with `changes` replacing values (or adding members) and `removing` dropping them.
    static func body(_ fields: Fields, _ changes: [String: String] = [:], removing: Set<String> = []) -> Data {
        var members: [String] = []
        for (key, json) in fields where !removing.contains(key) {
            members.append("\"\(key)\": \(changes[key] ?? json)")
        }
        for (key, json) in changes.sorted(by: { $0.key < $1.key }) where !fields.contains(where: { $0.key == key }) {
            members.append("\"\(key)\": \(json)")
        }
        return Data(("{" + members.joined(separator: ", ") + "}").utf8)
    }

    /// An order body; see ``body(_:_:removing:)``.
    static func order(_ changes: [String: String] = [:], removing: Set<String> = []) -> Data {
        body(order, changes, removing: removing)
    }
}

/// Why decoding `body` as `M` fails, or `nil` when it succeeds.
///
/// For `order.v1` it also runs intake's decoder and expects the same verdict, so every reason a test pins holds for
/// both paths.
func rejection<M: SchemaMessage>(_ body: Data, as type: M.Type) -> MessageRejection? {
    let verdict: MessageRejection?
    do {
        _ = try M.decode(body: body)
        verdict = nil
    } catch {
        verdict = error
    }
    if M.self == OrderMessage.self {
        #expect(
            CheckedDecoding.verdict(body) == CheckedDecoding.referenceVerdict(body),
            "\(String(decoding: body, as: UTF8.self).prefix(300))"
        )
    }
    return verdict
}

/// The two ways to decode `order.v1`: Foundation's `JSONDecoder` with ``CanonicalJSON`` (the reference), and intake's
/// ``OrderMessage/decodeChecked(body:)`` with the canonical writer.
enum CheckedDecoding {
    /// What a decoder made of a body: the order and its canonical text, or the rejection.
    enum Verdict: Equatable, CustomStringConvertible {
        case accepted(OrderMessage, String)
        case rejected(MessageRejection)

        var description: String {
            switch self {
            case .accepted(_, let canonical): "accepted \(canonical)"
            case .rejected(let rejection): "rejected \(rejection.code.rawValue) \(rejection.reason)"
            }
        }
    }

    static func referenceVerdict(_ body: Data) -> Verdict {
        do {
            let order = try OrderMessage.decode(body: body)
            return .accepted(order, order.canonicalValue.text)
        } catch {
            return .rejected(error)
        }
    }

    static func verdict(_ body: Data) -> Verdict {
        do {
            let order = try OrderMessage.decodeChecked(body: body)
            return .accepted(order, order.canonicalJSON)
        } catch {
            return .rejected(error)
        }
    }
}

/// The reason text for decoding `body` as `M`, or `"accepted"`.
func reason<M: SchemaMessage>(_ body: Data, as type: M.Type = OrderMessage.self) -> String {
    rejection(body, as: type)?.reason ?? "accepted"
}

/// The members of a JSON object, for checking field names.
func jsonObject(_ data: Data) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// Parses values the tests know to be valid.
extension Money {
    static func of(_ text: String) throws -> Money { try Money(text) }
}

extension Timestamp {
    static func of(_ text: String) throws -> Timestamp { try Timestamp(rfc3339: text) }
}

extension Identifier {
    static func of(_ text: String) throws -> Identifier { try Identifier(text) }
}
