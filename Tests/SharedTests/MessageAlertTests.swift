import Foundation
import Testing

@testable import CRMContract
@testable import CRMSupport

@Suite("Retention alerts, feedback and internal events")
struct MessageAlertTests {
    @Test("the spec's retention alert example decodes")
    func alert() throws {
        let alert = try RetentionAlert.decode(body: Fixture.body(Fixture.retentionAlert))
        #expect(alert.priority == .p1)
        #expect(alert.priority.routingKey == "retention.p1")
        #expect(alert.reasons == [.lifecycleDecline, .overduePurchase])
        #expect(alert.valueAtRisk == (try Money("1520")))
        #expect(alert.customer.pAlive == 0.31)
        #expect(alert.customer.ordersCount == 14)
        #expect(alert.customer.expectedIntervalDays == 21.5)
        #expect(alert.customer.daysSinceLastOrder == 75)
        #expect(alert.customer.lastOrderAt == (try Timestamp(rfc3339: "2026-09-17T12:00:00Z")))
    }

    @Test(
        "retention alert rules",
        arguments: [
            (["priority": #""p4""#], #"priority: unknown "p4" (expected one of p1, p2, p3)"#),
            (["reasons": "[]"], "reasons: empty"),
            (["reasons": #"["p_alive_low", "p_alive_low"]"#], "reasons[1]: repeated"),
            (
                ["reasons": #"["p_alive_low", "churned"]"#],
                #"reasons[1]: unknown "churned" (expected one of lifecycle_termination, lifecycle_decline, p_alive_low, "#
                    + #"p_alive_drop, overdue_purchase, tier_downgrade, complaint_valuable_customer, repeated_complaints, "#
                    + #"complaint_unresolved, dissatisfied)"#
            ),
            (["reasons": #""a""#], "reasons: expected an array"),
            (["value_at_risk": #""-1""#], "value_at_risk: negative"),
            (["customer": #"{"p_alive": 1.5}"#], "customer.p_alive: must be a number from 0 to 1"),
            (["customer": #"{"p_alive": "0.3"}"#], "customer.p_alive: must be a number from 0 to 1"),
            (["customer": #"{"orders_count": -1}"#], "customer.orders_count: must be a whole number, 0 or more"),
            (
                ["customer": #"{"expected_interval_days": -2}"#],
                "customer.expected_interval_days: must be a number of days, 0 or more"
            ),
            (["customer": "{}"], "accepted"),
        ]
    )
    func alertRules(changes: [String: String], expected: String) {
        #expect(reason(Fixture.body(Fixture.retentionAlert, changes), as: RetentionAlert.self) == expected)
    }

    @Test("feedback decodes; outcome is optional and closed")
    func feedback() throws {
        let feedback = try AlertFeedback.decode(body: Fixture.body(Fixture.alertFeedback))
        #expect(feedback.status == .resolved)
        #expect(feedback.outcome == .retained)
        let notContacted = Fixture.body(Fixture.alertFeedback, ["outcome": #""not_contacted""#])
        #expect(try AlertFeedback.decode(body: notContacted).outcome == .notContacted)
        let acknowledged = Fixture.body(
            Fixture.alertFeedback,
            ["status": #""acknowledged""#],
            removing: ["outcome", "note"]
        )
        #expect(try AlertFeedback.decode(body: acknowledged).outcome == nil)
        let maybe = Fixture.body(Fixture.alertFeedback, ["outcome": #""maybe""#])
        #expect(
            reason(maybe, as: AlertFeedback.self)
                == #"outcome: unknown "maybe" (expected one of retained, lost, not_contacted)"#
        )
        #expect(reason(Fixture.body(Fixture.alertFeedback, removing: ["at"]), as: AlertFeedback.self) == "at: missing")
    }

    @Test("order.accepted.v1 names at least one order, none twice")
    func orderAccepted() throws {
        let event = OrderAcceptedEvent(
            customerID: try Identifier("C-42"),
            orderIDs: [try Identifier("A-1001"), try Identifier("A-1002")],
            occurredAt: try Timestamp(rfc3339: "2026-11-20T10:15:00+08:00")
        )
        #expect(try OrderAcceptedEvent.decode(body: event.encodedBody()) == event)
        var empty = event
        empty.orderIDs = []
        #expect(throws: MessageRejection(.invalidValue, field: "order_ids", "empty")) { try empty.encodedBody() }
        let repeated = Data(
            (#"{"schema": "order.accepted.v1", "customer_id": "C", "order_ids": ["A", "A"], "#
                + #""occurred_at": "2026-11-20T10:15:00Z"}"#).utf8
        )
        #expect(reason(repeated, as: OrderAcceptedEvent.self) == "order_ids[1]: repeated")
    }

    static func scored() throws -> CustomerScoredEvent {
        CustomerScoredEvent(
            customerID: try Identifier("C-42"),
            previousLifecycleStage: .maturity,
            previousTier: .gold,
            customer: CustomerValueSnapshot(
                tier: .gold,
                lifecycleStage: .decline,
                clv: try Money("2200.50"),
                pAlive: 0.31,
                lastOrderAt: try Timestamp(rfc3339: "2026-09-17T12:00:00Z"),
                ordersCount: 14,
                expectedIntervalDays: 21.5,
                daysSinceLastOrder: 75
            ),
            expectedPurchases90d: 0.4,
            scoredAt: try Timestamp(rfc3339: "2026-12-01T00:00:00Z")
        )
    }

    @Test("customer.scored.v1 round-trips and requires the scoring results")
    func customerScored() throws {
        let event = try Self.scored()
        #expect(try CustomerScoredEvent.decode(body: event.encodedBody()) == event)
        var unscored = event
        unscored.customer.pAlive = nil
        #expect(throws: MessageRejection(.missingField, field: "customer.p_alive", "missing")) {
            try unscored.encodedBody()
        }
        var negative = event
        negative.expectedPurchases90d = -1
        #expect(
            throws: MessageRejection(
                .invalidValue,
                field: "expected_purchases_90d",
                "must be a number of purchases, 0 or more"
            )
        ) {
            try negative.validate()
        }
    }

    @Test("complaint.signal.v1 round-trips, with or without a tier")
    func complaintSignal() throws {
        var event = ComplaintSignalEvent(
            complaintID: try Identifier("K-7"),
            customerID: try Identifier("C-42"),
            tier: .gold,
            severity: .critical,
            receivedAt: try Timestamp(rfc3339: "2026-11-21T09:00:00Z")
        )
        #expect(try ComplaintSignalEvent.decode(body: event.encodedBody()) == event)
        event.tier = nil
        #expect(try ComplaintSignalEvent.decode(body: event.encodedBody()) == event)
        #expect(throws: MessageRejection(.unknownSchema, field: "schema", #"unknown "customer.scored.v1""#)) {
            try ComplaintSignalEvent.decode(body: Self.scored().encodedBody())
        }
    }
}
