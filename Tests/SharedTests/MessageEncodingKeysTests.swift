import Foundation
import Testing

@testable import CRMContract
@testable import CRMSupport

/// Every message encodes to exactly the spec's field names: encoded with every field set, then its keys compared.
@Suite("Encoded field names")
struct MessageEncodingKeysTests {
    static func keys(_ data: Data, _ path: String...) throws -> Set<String> {
        var object = try jsonObject(data)
        for key in path {
            if let nested = object[key] as? [String: Any] {
                object = nested
            } else {
                object = try #require((object[key] as? [[String: Any]])?.first)
            }
        }
        return Set(object.keys)
    }

    @Test("order.v1")
    func order() throws {
        var order = try OrderMessage.decode(body: Fixture.order())
        order.kind = .refund
        order.originalOrderID = try Identifier("A-1000")
        let body = try order.encodedBody()
        #expect(
            try Self.keys(body) == [
                "schema", "order_id", "customer_id", "occurred_at", "kind", "original_order_id", "amount", "currency",
                "cost", "channel", "customer", "items",
            ]
        )
        #expect(try Self.keys(body, "customer") == ["name", "email", "region", "type"])
        #expect(try Self.keys(body, "items") == ["sku", "quantity", "unit_price", "category"])
        let object = try jsonObject(body)
        #expect(object["amount"] as? String == "129.90")
        #expect(object["occurred_at"] as? String == "2026-11-20T02:15:00.000Z")
    }

    @Test("complaint.v1 and complaint-status.v1")
    func complaints() throws {
        var complaint = try ComplaintMessage.decode(body: Fixture.body(Fixture.complaint))
        complaint.categoryHint = "delivery"
        #expect(
            try Self.keys(complaint.encodedBody()) == [
                "schema", "complaint_id", "customer_id", "received_at", "channel", "subject", "body", "order_id",
                "category_hint", "language",
            ]
        )
        let status = try ComplaintStatusMessage.decode(body: Fixture.body(Fixture.complaintStatus))
        #expect(
            try Self.keys(status.encodedBody()) == [
                "schema", "complaint_id", "status", "at", "agent", "resolution", "satisfaction",
            ]
        )
    }

    @Test("routed complaint")
    func routed() throws {
        var routed = try MessageComplaintTests.routed()
        routed.complaint.categoryHint = "delivery"
        let body = try routed.encodedBody()
        #expect(
            try Self.keys(body) == [
                "schema", "complaint_id", "customer_id", "received_at", "channel", "subject", "body", "order_id",
                "category_hint", "language", "category", "severity", "priority", "desk", "matched_rule", "customer",
                "sla", "escalation_level",
            ]
        )
        #expect(
            try Self.keys(body, "customer") == ["tier", "lifecycle_stage", "clv", "orders_count", "open_complaints"]
        )
        #expect(try Self.keys(body, "sla") == ["first_response_due", "resolution_due"])
    }

    @Test("retention-alert.v1 and alert-feedback.v1")
    func alerts() throws {
        let alert = try RetentionAlert.decode(body: Fixture.body(Fixture.retentionAlert))
        let body = try alert.encodedBody()
        #expect(
            try Self.keys(body) == [
                "schema", "alert_id", "customer_id", "raised_at", "priority", "reasons", "value_at_risk", "customer",
                "suggested_action",
            ]
        )
        #expect(
            try Self.keys(body, "customer") == [
                "tier", "lifecycle_stage", "clv", "p_alive", "last_order_at", "orders_count", "expected_interval_days",
                "days_since_last_order",
            ]
        )
        let feedback = try AlertFeedback.decode(body: Fixture.body(Fixture.alertFeedback))
        #expect(
            try Self.keys(feedback.encodedBody()) == ["schema", "alert_id", "status", "outcome", "at", "agent", "note"]
        )
    }

    @Test("internal events")
    func events() throws {
        let accepted = OrderAcceptedEvent(
            customerID: try Identifier("C-42"),
            orderIDs: [try Identifier("A-1001")],
            occurredAt: try Timestamp(rfc3339: "2026-11-20T02:15:00Z")
        )
        #expect(try Self.keys(accepted.encodedBody()) == ["schema", "customer_id", "order_ids", "occurred_at"])
        #expect(
            try Self.keys(MessageAlertTests.scored().encodedBody()) == [
                "schema", "customer_id", "previous_lifecycle_stage", "previous_tier", "customer",
                "expected_purchases_90d", "scored_at",
            ]
        )
        let signal = ComplaintSignalEvent(
            complaintID: try Identifier("K-7"),
            customerID: try Identifier("C-42"),
            tier: .gold,
            severity: .high,
            receivedAt: try Timestamp(rfc3339: "2026-11-21T09:00:00Z")
        )
        #expect(
            try Self.keys(signal.encodedBody()) == [
                "schema", "complaint_id", "customer_id", "tier", "severity", "received_at",
            ]
        )
    }

    @Test("absent optionals are left out rather than written as null")
    func absentOptionals() throws {
        let order = try OrderMessage.decode(body: Fixture.order(removing: ["cost", "channel", "customer", "items"]))
        #expect(
            try Self.keys(order.encodedBody()) == [
                "schema", "order_id", "customer_id", "occurred_at", "kind", "amount", "currency",
            ]
        )
    }
}
