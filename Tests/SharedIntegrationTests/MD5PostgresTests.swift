import Foundation
import TestSupport
import Testing

@testable import CRMSupport

@Suite("MD5 against PostgreSQL")
struct MD5PostgresTests {
    /// Every length around the block and padding boundaries, and multi-byte text, equal PostgreSQL's `md5`.
    @Test func equalsPostgreSQL() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let texts = (0...130).map { String(repeating: "x", count: $0) } + ["Zoë — 東京 🙂", #"{"order_id":"a\"b"}"#]
            let rows = try await environment.pool.query(
                "SELECT md5(t) FROM unnest($1::text[]) WITH ORDINALITY AS u(t, o) ORDER BY o",
                [texts]
            )
            #expect(try rows.map { try $0.decode(0, as: String.self) } == texts.map(MD5.hex))
        }
    }
}
