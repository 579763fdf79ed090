import Foundation
import Testing

@testable import CRMContract
@testable import CRMSupport

@Suite("order.v1")
struct MessageOrderTests {
    @Test("the spec's example decodes with every field")
    func specExample() throws {
        let order = try OrderMessage.decode(body: Fixture.order())
        #expect(order.orderID == (try Identifier("A-1001")))
        #expect(order.customerID == (try Identifier("C-42")))
        #expect(order.occurredAt == (try Timestamp(rfc3339: "2026-11-20T02:15:00Z")))
        #expect(order.kind == .purchase)
        #expect(order.originalOrderID == nil)
        #expect(order.amount == (try Money("129.9")))
        #expect(order.currency == (try CurrencyCode("CNY")))
        #expect(order.cost == (try Money("80.10")))
        #expect(order.channel == "web")
        #expect(order.customer == OrderCustomer(name: "Li Lei", email: "li@example.com", region: "east", type: .final))
        #expect(order.items == [OrderItem(sku: "SKU-1", quantity: 2, unitPrice: try Money("64.95"), category: "books")])
    }

    @Test("only the required fields are needed; kind defaults to purchase")
    func minimal() throws {
        let order = try OrderMessage.decode(
            body: Fixture.order(removing: ["kind", "cost", "channel", "customer", "items"])
        )
        #expect(order.kind == .purchase)
        #expect(order.items.isEmpty)
        #expect(order.customer == nil)
        #expect(order.cost == nil)
    }

    @Test("a refund names the order it refunds")
    func refund() throws {
        let order = try OrderMessage.decode(
            body: Fixture.order(["order_id": #""A-1002""#, "kind": #""refund""#, "original_order_id": #""A-1001""#])
        )
        #expect(order.kind == .refund)
        #expect(order.originalOrderID == (try Identifier("A-1001")))
    }

    @Test(
        "refund rules",
        arguments: [
            (["kind": #""refund""#], "original_order_id: required for a refund"),
            (["kind": #""refund""#, "original_order_id": "null"], "original_order_id: required for a refund"),
            (["original_order_id": #""A-1000""#], "original_order_id: only allowed on a refund"),
            (["kind": #""refund""#, "original_order_id": #""A-1001""#], "original_order_id: must name another order"),
            (["kind": #""gift""#], #"kind: unknown "gift" (expected one of purchase, refund)"#),
            (["kind": "1"], "kind: expected one of purchase, refund"),
        ]
    )
    func refundRules(changes: [String: String], expected: String) {
        #expect(reason(Fixture.order(changes)) == expected)
    }

    @Test(
        "item quantities must be positive integers",
        arguments: [
            ("0", "items[2].quantity: must be a positive integer"),
            ("-1", "items[2].quantity: must be a positive integer"),
            ("2.5", "items[2].quantity: must be a positive integer"),
            (#""2""#, "items[2].quantity: must be a positive integer"),
            ("2147483648", "items[2].quantity: must be a positive integer"),
            ("1e15", "items[2].quantity: must be a positive integer"),
            ("null", "items[2].quantity: must not be null"),
            ("2.0", "accepted"),
            ("1e3", "accepted"),
            ("2147483647", "accepted"),
        ]
    )
    func quantities(json: String, expected: String) {
        let item = #"{"sku": "S", "quantity": 1}"#
        let items = "[\(item), \(item), {\"sku\": \"S\", \"quantity\": \(json)}]"
        #expect(reason(Fixture.order(["items": items])) == expected)
    }

    @Test(
        "nested fields are named by their path",
        arguments: [
            (["items": #"[{"quantity": 1}]"#], "items[0].sku: missing"),
            (["items": #"[{"sku": "S", "quantity": 1, "unit_price": "-1"}]"#], "items[0].unit_price: negative"),
            (["items": "{}"], "items: expected an array"),
            (["items": "[5]"], "items[0]: expected an object"),
            (["customer": #""Li Lei""#], "customer: expected an object"),
            (
                ["customer": #"{"type": "wholesale"}"#],
                #"customer.type: unknown "wholesale" (expected one of final, intermediate)"#
            ),
            (["customer": #"{"email": "li.example.com"}"#], "customer.email: not an email address"),
            (["customer": #"{"name": 7}"#], "customer.name: expected a string"),
            (["cost": #""-0.01""#], "cost: negative"),
            (["customer_id": "null"], "customer_id: must not be null"),
        ]
    )
    func paths(changes: [String: String], expected: String) {
        #expect(reason(Fixture.order(changes)) == expected)
    }

    @Test("unknown members are ignored, so upstream can add fields")
    func unknownMembers() throws {
        let plain = try OrderMessage.decode(body: Fixture.order())
        let extended = try OrderMessage.decode(body: Fixture.order(["coupon": #"{"code": "X", "depth": [[1]]}"#]))
        #expect(plain == extended)
    }

    @Test("encoding and decoding again gives the same order")
    func roundTrip() throws {
        let order = try OrderMessage.decode(body: Fixture.order())
        #expect(try OrderMessage.decode(body: order.encodedBody()) == order)
        var refund = order
        refund.kind = .refund
        #expect(throws: MessageRejection(.missingField, field: "original_order_id", "required for a refund")) {
            try refund.encodedBody()
        }
    }
}
