import Foundation
import Testing

@testable import CRMAMQP

@Suite("Message ids")
struct MessageIDTests {
    @Test("are lower-case version 4 UUIDs with the RFC 4122 variant")
    func format() throws {
        for _ in 0..<1000 {
            let id = MessageID.random()
            #expect(id == id.lowercased())
            let uuid = try #require(UUID(uuidString: id)).uuid
            #expect(uuid.6 >> 4 == 4, "version nibble of \(id)")
            #expect(uuid.8 >> 6 == 0b10, "variant bits of \(id)")
        }
    }

    @Test("do not repeat")
    func distinct() {
        let ids = (0..<100_000).map { _ in MessageID.random() }
        #expect(Set(ids).count == ids.count)
    }

    @Test("are what an outbound message gets when it names none")
    func outboundDefault() throws {
        let first = OutboundMessage(exchange: "x", routingKey: "k", body: Data())
        let second = OutboundMessage(exchange: "x", routingKey: "k", body: Data())
        #expect(first.messageID != second.messageID)
        #expect(try #require(UUID(uuidString: first.messageID)).uuid.6 >> 4 == 4)
    }
}
