import Foundation
import Shared
import Testing
import TestSupport

extension SystemTests {
    /// Each service's own account reaches its own tables and queues, and nothing of the others'.
    @Suite("Least privilege", .serialized)
    struct PrivilegeTests {
        /// A URL with its user and password replaced.
        static func url(_ url: String, user: String, password: String) -> String {
            guard let at = url.firstIndex(of: "@"), let scheme = url.range(of: "://") else { return url }
            return String(url[..<scheme.upperBound]) + "\(user):\(password)" + String(url[at...])
        }

        static func sqlState(_ body: () async throws -> Void) async -> String? {
            do {
                try await body()
                return nil
            } catch let error as PostgresError {
                return error.sqlState ?? "?"
            } catch {
                return "?"
            }
        }

        @Test func eachServiceAccountReachesOnlyWhatItNeeds() async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                let admin = environment.serviceVariables
                let intakePassword = UUID().uuidString
                let alertsPassword = UUID().uuidString
                var variables = admin
                variables["CRM_INTAKE_PASSWORD"] = intakePassword
                variables["CRM_ALERTS_PASSWORD"] = alertsPassword
                variables["CRM_RABBITMQ_API"] = TestServers.managementAPI
                let accounts = try Shell.execute("crm", arguments: ["accounts"], environment: variables)
                #expect(accounts.status == 0, "\(accounts.output)")
                #expect(accounts.output.contains("crm_intake") && !accounts.output.contains(intakePassword))

                // PostgreSQL: intake's role.
                let intakeDatabase = Self.url(environment.database.url, user: "crm_intake", password: intakePassword)
                let intake = PostgresConnection(url: intakeDatabase, applicationName: "intake", logger: TestServers.logger)
                try await environment.pool.execute(
                    "INSERT INTO crm_outbox (source, exchange, routing_key, message_id, body) VALUES ('alerts', 'x', 'y', 'm', '{}')")
                #expect(await Self.sqlState { _ = try await intake.query("SELECT count(*) FROM retention_alerts") } == "42501")
                #expect(await Self.sqlState { _ = try await intake.query("SELECT count(*) FROM customer_scores") } == "42501")
                #expect(await Self.sqlState { _ = try await intake.query("SELECT count(*) FROM complaints") } == "42501")
                #expect(try await intake.query("SELECT count(*) FROM crm_outbox")[0][0] == "0", "another source's outbox row is visible")
                #expect(
                    await Self.sqlState {
                        try await intake.execute(
                            "INSERT INTO crm_outbox (source, exchange, routing_key, message_id, body) VALUES ('scoring', 'x', 'y', 'm', '{}')")
                    } == "42501")
                #expect(await Self.sqlState { try await intake.execute("DELETE FROM customers") } == "42501")
                await intake.close()
                let alerts = PostgresConnection(
                    url: Self.url(environment.database.url, user: "crm_alerts", password: alertsPassword),
                    applicationName: "alerts", logger: TestServers.logger)
                #expect(await Self.sqlState { _ = try await alerts.query("SELECT count(*) FROM orders") } == "42501")
                #expect(try await alerts.query("SELECT count(*) FROM customer_scores")[0][0] == "0")
                await alerts.close()

                // RabbitMQ: intake's user can neither take a desk's alerts nor publish to the desks.
                var intakeAMQP = environment.amqp
                intakeAMQP.user = "crm_intake"
                intakeAMQP.password = intakePassword
                let consumer = AMQPConsumer(
                    settings: intakeAMQP, queue: "alerts.retention.p1", prefetch: 10, logger: TestServers.logger)
                await #expect(throws: AMQPError.self) {
                    _ = try await consumer.nextBatch(maxCount: 1, wait: .milliseconds(200), linger: .zero)
                }
                await consumer.close()
                let publisher = AMQPPublisher(settings: intakeAMQP, name: "intake", logger: TestServers.logger)
                await #expect(throws: AMQPError.self) {
                    try await publisher.publish([
                        OutboundMessage(exchange: Topology.desksExchange, routingKey: "desk.billing", body: Data("{}".utf8))
                    ])
                }
                await publisher.close()

                // And the real crm-intake, run with its own accounts, does its job.
                var service = admin
                service["CRM_DATABASE_URL"] = intakeDatabase
                service["CRM_AMQP_URL"] = Self.url(admin["CRM_AMQP_URL"] ?? "", user: "crm_intake", password: intakePassword)
                service["CRM_HTTP_PORT"] = "0"
                service["CRM_LOG_LEVEL"] = "debug"
                let process = try Shell.launch("crm-intake", environment: service)
                defer { if process.isRunning { process.terminate() } }
                // The whole topology, so the relay's order.accepted event has scoring's queue to go to.
                let upstream = AMQPPublisher(
                    settings: environment.amqp, name: "upstream", topology: Topology.system(desks: []),
                    logger: TestServers.logger)
                try await upstream.publish([
                    OutboundMessage(
                        exchange: Topology.ordersExchange, routingKey: "order.v1",
                        body: Data(#"{"schema":"order.v1","order_id":"P-1","customer_id":"C-1","occurred_at":"2026-11-20T10:15:00Z","amount":"5.00","currency":"USD"}"#.utf8))
                ])
                var stored: [PostgresRow] = []
                for _ in 0..<100 where stored.isEmpty {
                    try await Task.sleep(for: .milliseconds(100))
                    stored = try await environment.pool.query(
                        "SELECT o.order_id FROM orders o WHERE NOT EXISTS (SELECT 1 FROM crm_outbox WHERE source = 'intake')")
                }
                #expect(stored.first?[0] == "P-1", "crm-intake with its own accounts did not store and relay the order")
                await upstream.close()
            }
        }
    }
}
