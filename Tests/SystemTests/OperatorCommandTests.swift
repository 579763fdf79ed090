import CRMAMQP
import CRMPostgres
import CRMSupport
import Foundation
import TestSupport
import Testing

extension SystemTests {
    /// The operator's fixes, end to end: a dead letter, its cause fixed, the letter replayed.
    @Suite("Operator commands", .serialized)
    struct OperatorCommandTests {
        @Test func anOrderDeadLetteredForAMissingRateIsStoredAfterTheRateIsSetAndReplayed() async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                let variables = environment.serviceVariables
                let intake = try Shell.launch(
                    "crm-intake",
                    environment: variables.merging(["CRM_HTTP_PORT": "0"]) { $1 }
                )
                defer { if intake.isRunning { intake.terminate() } }
                let publisher = AMQPPublisher(
                    settings: environment.amqp,
                    name: "test",
                    topology: Topology.system(desks: []),
                    logger: TestServers.logger
                )
                let order =
                    #"{"schema":"order.v1","order_id":"CNY-1","customer_id":"C-9","occurred_at":"2026-11-20T10:15:00+08:00","amount":"100.00","currency":"CNY"}"#
                try await publisher.publish([
                    OutboundMessage(exchange: Topology.ordersExchange, routingKey: "order.v1", body: Data(order.utf8))
                ])
                var dead = 0
                for _ in 0..<100 where dead == 0 {
                    try await Task.sleep(for: .milliseconds(100))
                    dead = try await publisher.inspectQueue("intake.orders.dead").messages
                }
                #expect(dead == 1)

                let dryRun = try Shell.execute(
                    "crm",
                    arguments: ["replay-dead", "intake.orders", "--dry-run"],
                    environment: variables
                )
                #expect(dryRun.status == 0)
                #expect(dryRun.output.contains("no exchange rate"))
                #expect(try await publisher.inspectQueue("intake.orders.dead").messages == 1)

                #expect(
                    try Shell.execute("crm", arguments: ["fx", "set", "CNY", "0.14"], environment: variables).status
                        == 0
                )
                let replay = try Shell.execute(
                    "crm",
                    arguments: ["replay-dead", "intake.orders"],
                    environment: variables
                )
                #expect(replay.status == 0)
                #expect(replay.output.contains("Replayed 1 of 1"))
                var stored: [PostgresRow] = []
                for _ in 0..<100 where stored.isEmpty {
                    try await Task.sleep(for: .milliseconds(100))
                    stored = try await environment.pool.query("SELECT amount_base FROM orders WHERE order_id = 'CNY-1'")
                }
                #expect(stored.first?[0] == "14.0000")
                #expect(try await publisher.inspectQueue("intake.orders.dead").messages == 0)
                let empty = try Shell.execute(
                    "crm",
                    arguments: ["replay-dead", "intake.orders"],
                    environment: variables
                )
                #expect(empty.output.contains("empty"))

                let status = try Shell.execute("crm", arguments: ["status", "--json"], environment: variables)
                #expect(status.status == 0)
                let report = try #require(
                    try JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any]
                )
                let queues = try #require(report["queues"] as? [[String: Any]])
                let orders = try #require(queues.first { $0["queue"] as? String == "intake.orders" })
                #expect(orders["consumers"] as? Int == 1)  // one replica, one consumer (CRM_INTAKE_CONSUMERS default)
                #expect(orders["dead_letters"] as? Int == 0)
                let replicas = try #require(report["replicas"] as? [[String: Any]])
                #expect(replicas.contains { $0["service"] as? String == "crm-intake" && $0["running"] as? Int == 1 })
                #expect(report["last_rescoring"] is NSNull)
                await publisher.close()
            }
        }
    }
}
