import CRMAMQP
import Foundation
import Synchronization
import Testing

@testable import CRMContract

/// Every reason the brief lists, each produced by a crafted message, and the order the checks run in.
@Suite("Rejection reasons")
struct MessageRejectionTests {
    static let oversized = Fixture.order(["padding": "\"\(String(repeating: "x", count: MessageBody.maximumSize))\""])

    @Test(
        "each documented reason",
        arguments: [
            (Fixture.order(["amount": #""-12.00""#]), "amount: negative", MessageRejection.Code.invalidValue),
            (
                Fixture.order(["occurred_at": #""2026-11-20T10:15:00""#]), "occurred_at: not RFC 3339 with an offset",
                .invalidValue
            ),
            (Fixture.order(["currency": #""XYZ""#]), #"currency: unknown ISO 4217 code "XYZ""#, .invalidValue),
            (
                Fixture.order(["order_id": "\"\(String(repeating: "A", count: 129))\""]),
                "order_id: longer than 128 characters", .invalidValue
            ),
            (oversized, "body: larger than 262144 bytes", .tooLarge),
            (Fixture.order(["schema": #""order.v9""#]), #"schema: unknown "order.v9""#, .unknownSchema),
            (Fixture.order(removing: ["customer_id"]), "customer_id: missing", .missingField),
            (Fixture.order(["amount": "false"]), "amount: expected a decimal string or number", .wrongType),
            (Data([0x7B, 0x22, 0xFF, 0x22, 0x7D]), "body: not valid UTF-8", .invalidUTF8),
            (Fixture.order(["kind": #""refund""#]), "original_order_id: required for a refund", .missingField),
            (
                Fixture.order([
                    "items": #"[{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 1}, {"sku": "C", "quantity": 0}]"#
                ]),
                "items[2].quantity: must be a positive integer", .invalidValue
            ),
            (Fixture.order(removing: ["schema"]), "schema: missing", .missingField),
            (Fixture.order(["schema": "1"]), "schema: expected a string", .wrongType),
            (Fixture.body(Fixture.complaint), #"schema: unknown "complaint.v1""#, .unknownSchema),
            (Data("[1, 2]".utf8), "body: expected a JSON object", .wrongType),
        ]
    )
    func documented(body: Data, expected: String, code: MessageRejection.Code) throws {
        let refusal = try #require(rejection(body, as: OrderMessage.self))
        #expect(refusal.reason == expected)
        #expect(refusal.code == code)
        #expect(refusal.description == expected)
    }

    @Test(
        "syntax errors say where",
        arguments: [
            (
                #"{"schema": "order.v1",}"#,
                #"body: not valid JSON (unexpected character '}' at byte 22, expected a member name)"#
            ),
            (#"{"schema": "order.v1""#, "body: not valid JSON (unexpected end of the body)"),
            ("", "body: not valid JSON (the body is empty)"),
            ("   ", "body: not valid JSON (the body is empty)"),
            ("order", "body: not valid JSON (unexpected character 'o' at byte 0)"),
            (#"{"a": 1} {"b": 2}"#, "body: not valid JSON (unexpected data after the object at byte 9)"),
            (#"{"a": 01}"#, "body: not valid JSON (unexpected character '1' at byte 7, expected ',' or '}')"),
            (#"{"a": "\x"}"#, "body: not valid JSON (invalid escape at byte 7)"),
        ]
    )
    func syntax(text: String, expected: String) {
        #expect(reason(Data(text.utf8)) == expected)
    }

    @Test("checks run in order: size, UTF-8, JSON, schema, fields")
    func order() {
        // Too large and not UTF-8: size wins.
        var huge = Self.oversized
        huge[10] = 0xFF
        #expect(reason(huge) == "body: larger than 262144 bytes")
        // Not UTF-8 and not JSON: encoding wins.
        #expect(reason(Data([0x7B, 0xFF, 0x2C])) == "body: not valid UTF-8")
        // Not JSON and an unknown schema: syntax wins.
        #expect(reason(Data(#"{"schema": "order.v9", }"#.utf8)).hasPrefix("body: not valid JSON ("))
        // Unknown schema and missing fields: schema wins.
        #expect(reason(Data(#"{"schema": "order.v9"}"#.utf8)) == #"schema: unknown "order.v9""#)
        // A duplicate key is found before any field is looked at.
        #expect(reason(Fixture.order(["schema": #""order.v1", "amount": "1""#])) == "amount: duplicate key")
    }

    @Test("peekSchema reads the schema after the same checks")
    func peek() throws {
        #expect(try MessageBody.peekSchema(Fixture.order()) == "order.v1")
        #expect(try MessageBody.peekSchema(Data(#"{"x": [1, {"schema": "inner"}], "schema": "s.v1"}"#.utf8)) == "s.v1")
        #expect(throws: MessageRejection(.invalidUTF8, field: "body", "not valid UTF-8")) {
            try MessageBody.peekSchema(Data([0xC0, 0xAF]))
        }
        #expect(throws: MessageRejection(.missingField, field: "schema", "missing")) {
            try MessageBody.peekSchema(Data(#"{"x": {"schema": "nested.v1"}}"#.utf8))
        }
    }
}

/// The consumer's check of internal events' publishers, by routing key and the broker-checked `user_id`.
@Suite("Publisher check")
struct PublisherCheckTests {
    static let check = PublisherCheck(
        owners: ["order.accepted": "crm_intake", "customer.scored": "crm_scoring"],
        ownUser: "crm_alerts"
    )

    static func message(_ key: String, user: String?) -> InboundMessage {
        InboundMessage(body: Data("{}".utf8), routingKey: key, userID: user)
    }

    @Test func theOwnerAndTheConsumersOwnAccountAreTrusted() {
        #expect(Self.check.rejection(of: Self.message("order.accepted", user: "crm_intake")) == nil)
        #expect(Self.check.rejection(of: Self.message("customer.scored", user: "crm_alerts")) == nil)
    }

    @Test func anyoneElseOrNoUserOrAnUnknownKeyIsRefusedWithTheReason() {
        let forged = Self.check.rejection(of: Self.message("customer.scored", user: "crm_intake"))
        #expect(forged?.code == .untrustedPublisher)
        #expect(
            forged?.reason == #"user_id: published by "crm_intake"; customer.scored is taken only from crm_scoring"#
        )
        #expect(Self.check.rejection(of: Self.message("customer.scored", user: nil))?.field == "user_id")
        #expect(Self.check.rejection(of: Self.message("complaint.signal", user: "crm_intake"))?.field == "routing_key")
    }

    @Test func aGuardedHandlerSeesOnlyTrustedMessages() async throws {
        let seen = Mutex<[String?]>([])
        let handler = Self.check.guarding { batch in
            seen.withLock { $0 += batch.map(\.userID) }
            return batch.map { _ in .processed }
        }
        let dispositions = try await handler([
            Self.message("order.accepted", user: "crm_intake"), Self.message("order.accepted", user: "crm_scoring"),
            Self.message("customer.scored", user: "crm_scoring"),
        ])
        #expect(seen.withLock { $0 } == ["crm_intake", "crm_scoring"])
        #expect(dispositions[0] == .processed && dispositions[2] == .processed)
        #expect(dispositions[1] != .processed)
    }
}
