import CRMPostgres
import CRMSchema
import CRMSupport
import Foundation
import TestSupport
import Testing

extension SystemTests {
    /// The real executables on a three-node RabbitMQ cluster with quorum queues, and on a PostgreSQL primary with a
    /// synchronous standby; the server they use goes away in the middle of a stream of orders.
    @Suite("Past one machine", .serialized)
    struct PastOneMachineTests {
        /// Every service connects to the first node listed; stopping it moves them to the next. The node comes back,
        /// and then the one they use now goes: every order stored once, every alert raised once, throughout.
        @Test func aClusterNodeGoesAndComesBackWithoutLossOrDoubleCounting() async throws {
            let cluster = try RabbitCluster.start()
            defer { cluster.remove() }
            try await TestServers.withEnvironment(migrate: true) { environment in
                let system = SystemHarness(
                    environment,
                    ownAccounts: false,
                    amqp: try cluster.settings,
                    overrides: [
                        "CRM_AMQP_URL": cluster.url, "CRM_AMQP_QUORUM_QUEUES": "true",
                        "CRM_AMQP_RECONNECT_MAX": "2s", "CRM_AMQP_CONNECT_TIMEOUT": "3s",
                    ]
                )
                try await system.start()
                do {
                    // The first half: the node every service connects to stops at 40%.
                    let first = SystemHarness.OrderStream(count: 3_000)
                    try await Self.publish(0..<3_000, of: first, with: system, faultAt: 1_200) { try cluster.stop(0) }
                    let afterLoss = try await system.reconcile(first)
                    #expect(afterLoss == system.expected(first), "after losing node 1: \(afterLoss)")
                    #expect(try cluster.runningNodes().count == 2)
                    // The node comes back; then the one the services moved to stops.
                    try cluster.restart(0)
                    #expect(try cluster.runningNodes().count == 3)
                    let whole = SystemHarness.OrderStream(count: 6_000)
                    try await Self.publish(3_000..<6_000, of: whole, with: system, faultAt: 4_200) {
                        try cluster.stop(1)
                    }
                    let afterReturn = try await system.reconcile(whole)
                    #expect(
                        afterReturn == system.expected(whole),
                        "after node 1 came back and node 2 went: \(afterReturn)"
                    )
                    try await Self.expectEachAlertRaisedOnce(system)
                } catch {
                    _ = await system.stopAll()
                    throw error
                }
                let failures = await system.stopAll()
                #expect(failures.isEmpty, "\(failures)")
            }
        }

        /// The services run on a two-host `CRM_DATABASE_URL`; the primary crashes mid-stream and the standby is
        /// promoted. Nothing the services committed is lost, nothing is counted twice, and they carry on against the
        /// new primary without a restart.
        @Test func aPostgreSQLFailoverLosesNothingCommitted() async throws {
            let pair = try PostgresPair.start()
            defer { pair.remove() }
            let connection = PostgresConnection(url: pair.url, applicationName: "migrate", logger: TestServers.logger)
            _ = try await Migrator().migrate(connection, logger: TestServers.logger)
            await connection.close()
            let pool = PostgresPool(url: pair.url, size: 2, applicationName: "checks", logger: TestServers.logger)
            try await TestServers.withEnvironment(migrate: false) { environment in
                let system = SystemHarness(
                    environment,
                    ownAccounts: false,
                    pool: pool,
                    overrides: ["CRM_DATABASE_URL": pair.url]
                )
                try await system.start()
                do {
                    let stream = SystemHarness.OrderStream(count: 6_000)
                    try await Self.publish(0..<6_000, of: stream, with: system, faultAt: 2_400) {
                        try pair.crashPrimary()
                        try await Task.sleep(for: .seconds(1))
                        try pair.promoteStandby()
                    }
                    #expect(try pair.standbyIsPrimary())
                    let ledger = try await system.reconcile(stream, timeout: .seconds(180))
                    #expect(ledger == system.expected(stream), "after the failover: \(ledger)")
                    try await Self.expectEachAlertRaisedOnce(system)
                } catch {
                    _ = await system.stopAll()
                    throw error
                }
                // Still the same processes: none exited, and all stop cleanly.
                let failures = await system.stopAll()
                #expect(failures.isEmpty, "\(failures)")
            }
            await pool.close()
        }

        /// Publishes `range` of the stream in batches with confirms (through outages), running `fault` once the
        /// orders before `faultAt` are published.
        static func publish(
            _ range: Range<Int>,
            of stream: SystemHarness.OrderStream,
            with system: SystemHarness,
            faultAt: Int,
            _ fault: () async throws -> Void
        ) async throws {
            var faulted = false
            for start in stride(from: range.lowerBound, to: range.upperBound, by: 300) {
                let end = min(start + 300, range.upperBound)
                try await system.publishRetrying(stream.messages(start..<end))
                if !faulted, end >= faultAt {
                    faulted = true
                    try await fault()
                }
            }
        }

        /// Each open reason belongs to one alert, and every alert queued for a desk is on its queue exactly once by
        /// alert id (redeliveries share the id).
        static func expectEachAlertRaisedOnce(_ system: SystemHarness) async throws {
            let stored = try await system.pool.query(
                """
                SELECT (SELECT count(*) FROM retention_alerts WHERE delivery = 'queued'),
                       (SELECT count(*) - count(DISTINCT (customer_id, reason)) FROM retention_alert_reasons WHERE open)
                """
            )
            let queued: Int = try stored[0].decode(0)
            #expect(try stored[0].decode(1, as: Int.self) == 0, "an open reason of a customer raised twice")
            let published = try await system.takeAlerts()
            #expect(published.distinct == queued, "\(published.distinct) alerts on the desk queues, \(queued) queued")
        }
    }
}
