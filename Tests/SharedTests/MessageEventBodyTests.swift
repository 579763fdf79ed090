import Foundation
import Testing

@testable import CRMContract
@testable import CRMSupport

/// `OrderAcceptedEvent` writes its body without `JSONEncoder`; the bytes must be the ones `JSONEncoder` writes.
@Suite("Order accepted event body")
struct MessageEventBodyTests {
    /// The protocol's `encodedBody()`, through `JSONEncoder`.
    static func encoderBody<M: SchemaMessage>(_ message: M) throws(MessageRejection) -> Data {
        try message.encodedBody()
    }

    @Test(
        "the same bytes as JSONEncoder's",
        arguments: [
            ["A-1001"], ["A-1", "A-2", "A-3"], [#"x'); DROP TABLE orders; --"#], [#"quote " and \ backslash"#],
            ["a/b</script>"], ["é e\u{301} 😀 中文"], ["a\u{00A0}b", "tab\u{2003}space"],
            [String(repeating: "x", count: 128)],
        ]
    )
    func sameBytes(orderIDs: [String]) throws {
        let event = OrderAcceptedEvent(
            customerID: try Identifier("C-\"42\"/é"),
            orderIDs: try orderIDs.map { try Identifier($0) },
            occurredAt: try Timestamp(rfc3339: "2026-11-20T10:15:00.123+08:00")
        )
        let direct = try event.encodedBody()
        #expect(direct == (try Self.encoderBody(event)), "\(String(decoding: direct, as: UTF8.self))")
        #expect(try OrderAcceptedEvent.decode(body: direct) == event)
    }

    @Test("an invalid event is refused with the same reason")
    func refusals() throws {
        let timestamp = try Timestamp(rfc3339: "2026-11-20T10:15:00Z")
        for event in [
            OrderAcceptedEvent(customerID: try Identifier("C"), orderIDs: [], occurredAt: timestamp),
            OrderAcceptedEvent(
                customerID: try Identifier("C"),
                orderIDs: [try Identifier("A"), try Identifier("A")],
                occurredAt: timestamp
            ),
        ] {
            let expected = try #require(rejection(of: event))
            #expect(throws: expected) { try event.encodedBody() }
        }
    }

    func rejection(of event: OrderAcceptedEvent) -> MessageRejection? {
        do {
            _ = try Self.encoderBody(event)
            return nil
        } catch {
            return error
        }
    }
}

/// `order.accepted.v2`: every customer of an intake transaction in one message, packed within the size limits.
@Suite("Order accepted events, many customers")
struct MessageOrderAcceptedEventsTests {
    static let timestamp = try! Timestamp(rfc3339: "2026-11-20T10:15:00.123+08:00")

    static func customer(_ id: String, orders: [String]) throws -> OrderAcceptedEvents.Customer {
        .init(customerID: try Identifier(id), orderIDs: try orders.map { try Identifier($0) }, occurredAt: timestamp)
    }

    @Test("writes the bytes JSONEncoder writes, and decodes to the same message")
    func sameBytes() throws {
        let events = OrderAcceptedEvents(customers: [
            try Self.customer("C-\"42\"/é", orders: ["A-1", #"quote " and \ backslash"#]),
            try Self.customer("C-7", orders: ["a/b</script>"]),
            try Self.customer("中文", orders: ["é e\u{301} 😀"]),
        ])
        let direct = try events.encodedBody()
        #expect(direct == (try MessageEventBodyTests.encoderBody(events)), "\(String(decoding: direct, as: UTF8.self))")
        #expect(try OrderAcceptedEvents.decode(body: direct) == events)
    }

    @Test("refuses no customers, a customer twice, and names the entry at fault")
    func refusals() throws {
        let cases: [(OrderAcceptedEvents, String)] = [
            (OrderAcceptedEvents(customers: []), "customers: empty"),
            (
                OrderAcceptedEvents(customers: [
                    try Self.customer("C", orders: ["A"]), try Self.customer("C", orders: ["B"]),
                ]),
                "customers[1].customer_id: repeated"
            ),
            (
                OrderAcceptedEvents(customers: [
                    try Self.customer("C", orders: ["A"]), try Self.customer("D", orders: ["B", "B"]),
                ]),
                "customers[1].order_ids[1]: repeated"
            ),
        ]
        for (events, reason) in cases {
            #expect(throws: MessageRejection.self) { try events.encodedBody() }
            do {
                _ = try MessageEventBodyTests.encoderBody(events)
                Issue.record("\(reason) was accepted")
            } catch {
                #expect(error.reason == reason)
            }
        }
        let body = Data(
            #"{"schema": "order.accepted.v2", "customers": [{"customer_id": "C", "order_ids": ["A"]}]}"#.utf8
        )
        #expect(throws: MessageRejection.self) { try OrderAcceptedEvents.decode(body: body) }
    }

    @Test("a customer registered without an order is an entry naming no order")
    func registration() throws {
        let events = OrderAcceptedEvents(customers: [try Self.customer("C", orders: [])])
        let decoded = try OrderAcceptedEvents.decode(body: events.encodedBody())
        #expect(decoded == events)
        #expect(try OrderAcceptedEvents.customerIDs(in: events.encodedBody()) == [try Identifier("C")])
    }

    @Test("packs within the entry and byte limits, keeping every order once and in order")
    func packing() throws {
        // 1,200 small customers, one with 20,000 long order ids (more than one message holds), then more small ones.
        var customers = try (0..<1200).map { try Self.customer("C-\($0)", orders: ["A-\($0)-1", "A-\($0)-2"]) }
        customers.append(
            try Self.customer("BIG", orders: (0..<20_000).map { "order-\($0)-" + String(repeating: "x", count: 40) })
        )
        customers += try (0..<10).map { try Self.customer("D-\($0)", orders: ["B-\($0)"]) }
        let messages = OrderAcceptedEvents.packed(customers)
        #expect(messages.count > 4)
        var seen: [String: [Identifier]] = [:]
        var order: [String] = []
        for message in messages {
            #expect(message.customers.count <= OrderAcceptedEvents.maximumCustomers)
            let body = try message.encodedBody()
            #expect(body.count <= OrderAcceptedEvents.maximumBodyBytes)
            #expect(body.count <= MessageBody.maximumSize)
            #expect(try OrderAcceptedEvents.customerIDs(in: body) == message.customers.map(\.customerID))
            for entry in message.customers {
                if seen[entry.customerID.rawValue] == nil { order.append(entry.customerID.rawValue) }
                seen[entry.customerID.rawValue, default: []] += entry.orderIDs
            }
        }
        #expect(order == customers.map(\.customerID.rawValue))
        for customer in customers { #expect(seen[customer.customerID.rawValue] == customer.orderIDs) }
        #expect(OrderAcceptedEvents.packed([]).isEmpty)
    }

    @Test("scoring reads the customers of either version and refuses other schemas")
    func eitherVersion() throws {
        let v1 = try OrderAcceptedEvent(
            customerID: Identifier("C-1"),
            orderIDs: [Identifier("A")],
            occurredAt: Self.timestamp
        )
        .encodedBody()
        #expect(try OrderAcceptedEvents.customerIDs(in: v1) == [try Identifier("C-1")])
        let v2 = try OrderAcceptedEvents(customers: [
            Self.customer("C-1", orders: ["A"]), Self.customer("C-2", orders: ["B"]),
        ])
        .encodedBody()
        #expect(try OrderAcceptedEvents.customerIDs(in: v2).map(\.rawValue) == ["C-1", "C-2"])
        #expect(throws: MessageRejection.self) {
            try OrderAcceptedEvents.customerIDs(in: Data(#"{"schema": "order.v1"}"#.utf8))
        }
    }
}

/// `customer.v1` and `customer-lifecycle.v1`: required fields, reasons, and the rules across fields.
@Suite("Customer and lifecycle messages")
struct MessageCustomerLifecycleTests {
    static func reason<M: SchemaMessage>(_ json: String, as type: M.Type) -> String? {
        do {
            _ = try M.decode(body: Data(json.utf8))
            return nil
        } catch {
            return error.reason
        }
    }

    @Test func aRegistrationNeedsItsIdAndTimeAndValidFields() throws {
        let full = try CustomerMessage.decode(
            body: Data(
                #"{"schema":"customer.v1","customer_id":"C-42","registered_at":"2026-11-20T10:15:00+08:00","region":"east","type":"final"}"#
                    .utf8
            )
        )
        #expect(full.customer.region == "east" && full.customer.type == .final && full.channel == nil)
        #expect(try CustomerMessage.decode(body: full.encodedBody()) == full)
        #expect(
            Self.reason(#"{"schema":"customer.v1","customer_id":"C-42"}"#, as: CustomerMessage.self)?.hasPrefix(
                "registered_at"
            ) == true
        )
        #expect(
            Self.reason(
                #"{"schema":"customer.v1","customer_id":"C-42","registered_at":"2026-11-20T10:15:00Z","email":"x"}"#,
                as: CustomerMessage.self
            ) == "email: not an email address"
        )
        #expect(
            Self.reason(
                #"{"schema":"customer.v1","customer_id":"C-42","registered_at":"2026-11-20T10:15:00Z","channel":" web"}"#,
                as: CustomerMessage.self
            )?.hasPrefix("channel") == true
        )
    }

    @Test func aPurchaseDueNamesItsExpectedTimeAndAStageChangeNone() throws {
        let at = try Timestamp(rfc3339: "2026-12-05T10:00:00Z")
        var event = CustomerLifecycleEvent(
            eventID: "e-1",
            event: .stageChanged,
            customerID: try Identifier("C-42"),
            stage: .recovery,
            previousStage: .termination,
            tier: .gold,
            changedAt: at,
            suggestedAction: "welcome_back_vip"
        )
        #expect(event.routingKey == "lifecycle.recovery")
        #expect(try CustomerLifecycleEvent.decode(body: event.encodedBody()) == event)
        var first = event
        first.previousStage = nil
        #expect(String(decoding: try first.encodedBody(), as: UTF8.self).contains(#""previous_stage":null"#))
        event.expectedAt = at
        #expect(throws: MessageRejection(.invalidValue, field: "expected_at", "only on purchase_due")) {
            try event.encodedBody()
        }
        event.event = .purchaseDue
        event.previousStage = nil
        #expect(event.routingKey == "lifecycle.purchase_due")
        #expect(try CustomerLifecycleEvent.decode(body: event.encodedBody()) == event)
        event.expectedAt = nil
        #expect(throws: MessageRejection(.missingField, field: "expected_at", "required")) { try event.encodedBody() }
    }
}
