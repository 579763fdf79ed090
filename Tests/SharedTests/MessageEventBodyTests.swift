import Foundation
import Testing

@testable import Shared

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
            ["a/b</script>"], ["é e\u{301} 😀 中文"], ["a\u{00A0}b", "zero\u{200D}width"],
            [String(repeating: "x", count: 128)],
        ]
    )
    func sameBytes(orderIDs: [String]) throws {
        let event = OrderAcceptedEvent(
            customerID: try Identifier("C-\"42\"/é"), orderIDs: try orderIDs.map { try Identifier($0) },
            occurredAt: try Timestamp(rfc3339: "2026-11-20T10:15:00.123+08:00"))
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
                customerID: try Identifier("C"), orderIDs: [try Identifier("A"), try Identifier("A")],
                occurredAt: timestamp),
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
