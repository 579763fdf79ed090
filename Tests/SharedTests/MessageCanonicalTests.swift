import Foundation
import Testing

@testable import CRMContract
@testable import CRMSupport

/// `canonicalJSON` tells a harmless redelivery (same content, written differently) from a conflicting order.
@Suite("Canonical order JSON")
struct MessageCanonicalTests {
    /// The canonical text, checked against its specification and against intake's decoder.
    static func canonical(_ body: Data) throws -> String {
        let order = try OrderMessage.decode(body: body)
        #expect(order.canonicalJSON == order.canonicalValue.text)
        #expect(try OrderMessage.decodeChecked(body: body).canonicalJSON == order.canonicalJSON)
        #expect(order.contentHash == MD5.hex(order.canonicalJSON))
        return order.canonicalJSON
    }

    static let reference = Fixture.order()
    static let item = #"{"sku": "SKU-1", "quantity": 2, "unit_price": "64.95", "category": "books"}"#

    @Test("the canonical form of the spec's example, byte for byte")
    func golden() throws {
        let expected =
            #"{"amount":"129.90","channel":"web","cost":"80.10","currency":"CNY","#
            + #""customer":{"email":"li@example.com","name":"Li Lei","region":"east","type":"final"},"#
            + #""customer_id":"C-42","items":[{"category":"books","quantity":2,"sku":"SKU-1","unit_price":"64.95"}],"#
            + #""kind":"purchase","occurred_at":"2026-11-20T02:15:00.000Z","order_id":"A-1001","schema":"order.v1"}"#
        #expect(try Self.canonical(Self.reference) == expected)
    }

    @Test(
        "the same content written differently is canonically equal",
        arguments: [
            Data(
                #"""
                {
                  "items": [ { "category": "books", "unit_price": "64.950", "quantity": 2, "sku": "SKU-1" } ],
                  "customer": { "type": "final", "region": "east", "email": "li@example.com", "name": "Li Lei" },
                  "channel": "web", "cost": 80.1, "currency": "CNY", "amount": "129.9", "kind": "purchase",
                  "occurred_at": "2026-11-20T02:15:00.000Z", "customer_id": "C-42", "order_id": "A-1001",
                  "schema": "order.v1"
                }
                """#.utf8
            ),
            Fixture.order(["amount": "129.90"]),
            Fixture.order(["amount": #""129.9000""#]),
            Fixture.order(["occurred_at": #""2026-11-20T02:15:00Z""#]),
            Fixture.order(["occurred_at": #""2026-11-19T21:15:00.000-05:00""#]),
            Fixture.order(["occurred_at": #""2026-11-20T02:15:00.0009Z""#]),
            Fixture.order(["notes": #""unknown members do not count""#]),
            Fixture.order(["items": #"[{"sku": "SKU-1", "quantity": 2.0, "unit_price": 64.95, "category": "books"}]"#]),
            Data([0xEF, 0xBB, 0xBF]) + Fixture.order(),
        ]
    )
    func equal(body: Data) throws {
        #expect(try Self.canonical(body) == Self.canonical(Self.reference))
    }

    @Test("defaults and empties are written the same as absence")
    func defaults() throws {
        let bare = try Self.canonical(Fixture.order(removing: ["kind", "items", "customer"]))
        #expect(try Self.canonical(Fixture.order(["items": "[]", "customer": "{}"], removing: ["kind"])) == bare)
        #expect(try Self.canonical(Fixture.order(["items": "null", "customer": "null"])) == bare)
    }

    @Test(
        "different content is canonically different",
        arguments: [
            ["amount": #""129.91""#], ["amount": #""1299.0""#], ["customer_id": #""C-43""#], ["currency": #""USD""#],
            ["occurred_at": #""2026-11-20T02:15:00.001Z""#], ["occurred_at": #""2026-11-20T10:15:00Z""#],
            ["cost": #""80.11""#], ["channel": #""app""#], ["customer": #"{"name": "Li Lei"}"#],
            ["items": #"[{"sku": "SKU-1", "quantity": 3, "unit_price": "64.95", "category": "books"}]"#],
            ["items": #"[{"sku": "SKU-2", "quantity": 2, "unit_price": "64.95", "category": "books"}]"#],
            ["items": #"[{"sku": "SKU-1", "quantity": 2, "category": "books"}]"#],
            ["items": "[\(Self.item), \(Self.item)]"],
            ["kind": #""refund""#, "original_order_id": #""A-1000""#],
        ]
    )
    func different(changes: [String: String]) throws {
        #expect(try Self.canonical(Fixture.order(changes)) != Self.canonical(Self.reference))
    }

    @Test("item order counts: a different sequence is different content")
    func itemOrder() throws {
        let a = #"{"sku": "A", "quantity": 1}"#
        let b = #"{"sku": "B", "quantity": 1}"#
        #expect(
            try Self.canonical(Fixture.order(["items": "[\(a), \(b)]"]))
                != Self.canonical(Fixture.order(["items": "[\(b), \(a)]"]))
        )
    }

    @Test("strings are escaped minimally and the same way every time")
    func escaping() throws {
        let body = Fixture.order(["customer": #"{"name": "Li \"Lei\"\n\\ \/ \u0001 \u00e9 \ud83d\ude00 </"}"#])
        let text = try Self.canonical(body)
        #expect(text.contains(#""customer":{"name":"Li \"Lei\"\n\\ / \u0001 é 😀 </"}"#))
    }

    @Test("the canonical form decodes to the same order")
    func decodesBack() throws {
        let order = try OrderMessage.decode(body: Self.reference)
        #expect(try OrderMessage.decode(body: Data(order.canonicalJSON.utf8)) == order)
    }
}
