import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation
import Intake
import TestSupport
import Testing

@testable import Scoring

/// The runbook's restore, against the real server: a `pg_dump` of a scored database restored into a new, empty
/// database gives the same scores when rescored as of the same time.
@Suite("Backup and restore")
struct BackupRestoreTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/cdnow")

    /// Every customer's scores as text, rounded as stored.
    static func scores(_ pool: PostgresPool) async throws -> [String] {
        try await pool.query(
            """
            SELECT customer_id || ' ' || lifecycle_stage || ' ' || tier || ' ' || coalesce(clv_predicted::text, '-')
                   || ' ' || coalesce(round(p_alive::numeric, 9)::text, '-') || ' ' || coalesce(grid, '-')
            FROM customer_scores ORDER BY customer_id
            """
        ).map { $0[0] ?? "" }
    }

    @Test func aDumpRestoredIntoANewDatabaseRescoresToTheSameScores() async throws {
        try await TestServers.withEnvironment { environment in
            let (_, bodies) = try OrderFile.bodies(of: Self.fixtures.appendingPathComponent("CDNOW_sample.txt"))
            let handler = OrderIntakeHandler(pool: environment.pool, outbox: Outbox(of: .intake), baseCurrency: "USD")
            for start in stride(from: 0, to: bodies.count, by: 2_000) {
                _ = try await handler.handle(
                    bodies[start..<min(start + 2_000, bodies.count)].map { InboundMessage(body: $0) }
                )
            }
            let asOf = try Timestamp(rfc3339: "1998-06-30T23:59:59.999Z").date
            func rescore(_ pool: PostgresPool) async throws -> Int {
                try await FullRescoring(
                    pool: pool,
                    outbox: Outbox(of: .scoring),
                    settings: ScoringConfiguration(),
                    logger: TestServers.logger
                )
                .run(asOf: asOf).customers
            }
            let customers = try await rescore(environment.pool)
            #expect(customers > 2_000)
            let before = try await Self.scores(environment.pool)

            // pg_dump in the backup profile's format, then pg_restore into a database that did not exist.
            let dump = FileManager.default.temporaryDirectory.appendingPathComponent("crm-\(UUID()).dump")
            defer { try? FileManager.default.removeItem(at: dump) }
            try Shell.run("pg_dump --format=custom --file='\(dump.path)' '\(environment.database.url)'")
            let name = environment.database.name + "_restored"
            let admin = PostgresConnection(
                url: try TestServers.databaseAdminURL,
                applicationName: "restore",
                logger: TestServers.logger
            )
            try await admin.execute("CREATE DATABASE \(name)")
            var components = try #require(URLComponents(string: environment.database.url))
            components.path = "/\(name)"
            let restoredURL = try #require(components.string)
            do {
                try Shell.run("pg_restore --exit-on-error --no-owner --dbname='\(restoredURL)' '\(dump.path)'")
                let restored = PostgresPool(
                    url: restoredURL,
                    size: 2,
                    applicationName: "restored",
                    logger: TestServers.logger
                )
                // The restored copy holds the same scores, and rescoring it as of the same time changes none.
                #expect(try await Self.scores(restored) == before)
                #expect(try await rescore(restored) == customers)
                let after = try await Self.scores(restored)
                #expect(after.count == before.count)
                #expect(after == before)
                let orders: Int = try await restored.query("SELECT count(*) FROM orders")[0].decode(0)
                let original: Int = try await environment.pool.query("SELECT count(*) FROM orders")[0].decode(0)
                #expect(orders == original && orders > 0)
                await restored.close()
            } catch {
                _ = try? await admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                await admin.close()
                throw error
            }
            _ = try? await admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            await admin.close()
        }
    }
}
