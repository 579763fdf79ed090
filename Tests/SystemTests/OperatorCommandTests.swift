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

        /// The CDNOW sample's orders, stored directly (as the benchmark loads a base): customer, day, amount.
        static func storeCDNOWSample(_ pool: PostgresPool) async throws {
            let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Fixtures/cdnow/CDNOW_sample.txt")
            var (customers, times, amounts): ([String], [String], [String]) = ([], [], [])
            for line in try String(contentsOf: file, encoding: .utf8).split(whereSeparator: \.isNewline) {
                let fields = line.split(whereSeparator: \.isWhitespace)
                guard fields.count == 5 else { continue }
                let date = fields[2]
                customers.append(String(fields[0]))
                times.append("\(date.prefix(4))-\(date.dropFirst(4).prefix(2))-\(date.suffix(2))T12:00:00Z")
                amounts.append(String(fields[4]))
            }
            try await pool.execute(
                "INSERT INTO customers (customer_id) SELECT DISTINCT id FROM unnest($1::text[]) AS id",
                [customers]
            )
            try await pool.execute(
                """
                INSERT INTO orders (order_id, customer_id, kind, occurred_at, amount, currency, amount_base, channel,
                                    content_hash)
                SELECT 'S-' || n, c, 'purchase', t::timestamptz, a::numeric, 'USD', a::numeric, 'file', 'file'
                FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS o(c, t, a, n)
                """,
                [customers, times, amounts]
            )
        }

        /// `crm model validate` and `crm model` as an operator runs them: a wrong command line exits 64, the
        /// validation prints the interface's JSON, the next rescoring follows it, and `crm model` shows it all.
        @Test func modelValidateAndModelThroughTheCommandLine() async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                let variables = environment.serviceVariables
                try await Self.storeCDNOWSample(environment.pool)
                func crm(_ arguments: String...) throws -> (status: Int32, output: String) {
                    try Shell.execute("crm", arguments: arguments, environment: variables)
                }
                #expect(try crm("model", "validate", "--calibration-end", "late September").status == 64)
                #expect(try crm("model", "validate").status == 64)
                #expect(
                    try crm("model", "validate", "--calibration-end", "1997-09-30", "--holdout-end", "1997-06-30")
                        .status == 64
                )
                #expect(try crm("model", "--json").status == 1)  // no model yet

                let validated = try crm("model", "validate", "--calibration-end", "1997-09-30", "--json")
                #expect(validated.status == 0)
                let validation = try #require(
                    try JSONSerialization.jsonObject(with: Data(validated.output.utf8)) as? [String: Any]
                )
                for key in ["calibration_end", "holdout_end", "holdout_weeks", "customers", "models"] {
                    #expect(validation[key] != nil, "\(key)")
                }
                #expect(validation["holdout_end"] as? String == "1998-06-30T12:00:00.000Z")  // the newest order
                #expect(validation["customers"] as? Int == 2357)
                let models = try #require(validation["models"] as? [String: [String: Any]])
                #expect(Set(models.keys) == ["bgnbd", "mbgnbd", "pareto_nbd"])
                let errors = models.mapValues { $0["mae"] as? Double ?? .infinity }
                let best = try #require(errors.min { $0.value < $1.value }?.key)

                let rescored = try crm("rescore", "--as-of", "1998-06-30", "--json")
                #expect(rescored.status == 0)
                let report = try #require(
                    try JSONSerialization.jsonObject(with: Data(rescored.output.utf8)) as? [String: Any]
                )
                #expect(report["selected"] as? String == best)

                let shown = try crm("model", "--json")
                let model = try #require(
                    try JSONSerialization.jsonObject(with: Data(shown.output.utf8)) as? [String: Any]
                )
                #expect(model["selected"] as? String == best)
                #expect((model["validation"] as? [String: Any])?["customers"] as? Int == 2357)
                let human = try crm("model")
                #expect(human.status == 0)
                for text in ["BG/NBD", "MBG/NBD", "Pareto/NBD", "holdout MAE", "selected:", "7+"] {
                    #expect(human.output.contains(text), "\(text)")
                }
            }
        }
    }
}
