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
                try await environment.declare(Topology.system(desks: []))
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

                // `crm load-orders --json`: what was published, as one object; intake stores it.
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("crm-load-\(UUID()).jsonl")
                defer { try? FileManager.default.removeItem(at: file) }
                try Data(
                    #"{"schema":"order.v1","order_id":"USD-1","customer_id":"C-9","occurred_at":"2026-11-21T10:15:00Z","amount":"20.00","currency":"USD"}"#
                        .utf8
                ).write(to: file)
                let loaded = try Shell.execute(
                    "crm",
                    arguments: ["load-orders", file.path, "--json"],
                    environment: variables
                )
                #expect(loaded.status == 0, "\(loaded.output)")
                let published = try #require(
                    try JSONSerialization.jsonObject(with: Data(loaded.output.utf8)) as? [String: Any],
                    "\(loaded.output)"
                )
                #expect(published["published"] as? Int == 1)
                #expect(published["exchange"] as? String == Topology.ordersExchange)
                var loadedOrder: [PostgresRow] = []
                for _ in 0..<100 where loadedOrder.isEmpty {
                    try await Task.sleep(for: .milliseconds(100))
                    loadedOrder = try await environment.pool.query("SELECT 1 FROM orders WHERE order_id = 'USD-1'")
                }
                #expect(loadedOrder.count == 1)
                await publisher.close()
            }
        }

        /// A dead letter goes back only along a binding of its queue: one planted to reach a desk queue from
        /// `alerts.feedback.dead`, and one that does not say where it came from, stay (counted and named) while the
        /// genuine one is replayed; an internal event goes through its owner's outbox.
        @Test func replayDeadSendsALetterBackOnlyAlongItsQueuesBindings() async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                let variables = environment.serviceVariables
                try await environment.declare(Topology.system(desks: SystemHarness.desks))
                let publisher = AMQPPublisher(settings: environment.amqp, name: "test", logger: TestServers.logger)
                func letter(
                    _ queue: String,
                    _ origin: (exchange: String, key: String)?,
                    _ body: String,
                    id: String
                ) -> OutboundMessage {
                    var headers: [String: AMQPHeaderValue] = [Topology.errorHeader: .string("test")]
                    if let origin {
                        headers["x-crm-original-exchange"] = .string(origin.exchange)
                        headers["x-crm-original-routing-key"] = .string(origin.key)
                    }
                    return OutboundMessage(
                        exchange: Topology.deadLetterExchange,
                        routingKey: queue,
                        body: Data(body.utf8),
                        headers: headers,
                        messageID: id
                    )
                }
                let complaint =
                    #"{"schema":"complaint.v1","complaint_id":"K-1","customer_id":"C-1","received_at":"2026-12-01T10:00:00Z","channel":"email","subject":"critical"}"#
                try await publisher.publish([
                    letter("alerts.feedback", (Topology.desksExchange, "desk.escalations"), complaint, id: "planted"),
                    letter("alerts.feedback", nil, "{}", id: "anonymous"),
                    letter("alerts.feedback", (Topology.alertsExchange, "alert.v1.feedback"), "{}", id: "genuine"),
                    letter(
                        "scoring.events",
                        (Topology.eventsExchange, Topology.EventKey.orderAccepted),
                        #"{"schema":"order.accepted.v1"}"#,
                        id: "event"
                    ),
                ])

                let dryRun = try Shell.execute(
                    "crm",
                    arguments: ["replay-dead", "alerts.feedback", "--dry-run"],
                    environment: variables
                )
                #expect(dryRun.status == 0)
                #expect(dryRun.output.contains("1  → crm.alerts alert.v1.feedback"), "\(dryRun.output)")
                #expect(dryRun.output.contains("crm.desks with desk.escalations does not feed alerts.feedback"))
                #expect(dryRun.output.contains("Skipped"))
                #expect(try await publisher.inspectQueue("alerts.feedback.dead").messages == 3)
                let counted = try Shell.execute(
                    "crm",
                    arguments: ["replay-dead", "alerts.feedback", "--dry-run", "--json"],
                    environment: variables
                )
                let tally = try #require(
                    try JSONSerialization.jsonObject(with: Data(counted.output.utf8)) as? [String: Any],
                    "\(counted.output)"
                )
                #expect(tally["depth"] as? Int == 3 && tally["taken"] as? Int == 3 && tally["replayed"] as? Int == 0)
                #expect(tally["kept"] as? Int == 2 && tally["dry_run"] as? Bool == true)
                #expect((tally["destinations"] as? [String: Int])?["crm.alerts alert.v1.feedback"] == 1)

                let replay = try Shell.execute(
                    "crm",
                    arguments: ["replay-dead", "alerts.feedback"],
                    environment: variables
                )
                #expect(replay.status == 0)
                #expect(replay.output.contains("Replayed 1 of 3"), "\(replay.output)")
                #expect(try await publisher.inspectQueue("desk.escalations").messages == 0)
                #expect(try await publisher.inspectQueue("alerts.feedback").messages == 1)
                let kept = AMQPConsumer(
                    settings: environment.amqp,
                    queue: "alerts.feedback.dead",
                    prefetch: 10,
                    logger: TestServers.logger
                )
                let left = try await kept.nextBatch(maxCount: 10, wait: .seconds(2), linger: .milliseconds(200))
                await kept.close()
                #expect(Set(left.compactMap(\.messageID)) == ["planted", "anonymous"])
                #expect(left.allSatisfy { $0.headers["x-crm-replay-refused"] != nil })

                let event = try Shell.execute(
                    "crm",
                    arguments: ["replay-dead", "scoring.events"],
                    environment: variables
                )
                #expect(event.status == 0, "\(event.output)")
                #expect(event.output.contains("through crm-intake's outbox"))
                #expect(try await publisher.inspectQueue("scoring.events").messages == 0)
                let outbox = try await environment.pool.query(
                    "SELECT source, exchange, routing_key, message_id FROM crm_outbox"
                )
                #expect(outbox.count == 1)
                #expect(
                    outbox.first.map { [$0[0], $0[1], $0[2], $0[3]] } == [
                        "intake", "crm.events", "order.accepted", "event",
                    ]
                )
                await publisher.close()
            }
        }

        /// `crm orders remove` takes a wrong order out without SQL: an audit row, its refunds held again (shown by
        /// `crm status`), its customer rescored through intake's outbox, and the id free for the corrected order.
        @Test func ordersRemoveTakesAWrongOrderOutWithAnAuditRow() async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                let variables = environment.serviceVariables
                try await environment.pool.execute(
                    """
                    INSERT INTO customers (customer_id) VALUES ('C-1');
                    """
                )
                try await environment.pool.execute(
                    """
                    INSERT INTO orders (order_id, customer_id, kind, original_order_id, occurred_at, amount, currency,
                                        amount_base, content_hash)
                    VALUES ('P-1', 'C-1', 'purchase', NULL, '2026-11-20T10:00:00Z', 999999999, 'USD', 999999999, 'a'),
                           ('R-1', 'C-1', 'refund', 'P-1', '2026-11-21T10:00:00Z', 5, 'USD', 5, 'b')
                    """
                )
                let missing = try Shell.execute("crm", arguments: ["orders", "remove", "NOPE"], environment: variables)
                #expect(missing.status == 1)
                let bad = try Shell.execute("crm", arguments: ["orders", "remove", " P-1"], environment: variables)
                #expect(bad.status == 64)
                let removed = try Shell.execute(
                    "crm",
                    arguments: ["orders", "remove", "P-1", "--reason", "amount typed in cents"],
                    environment: variables
                )
                #expect(removed.status == 0, "\(removed.output)")
                #expect(removed.output.contains("1 refund(s) of it held again"))
                #expect(
                    try await environment.pool.query("SELECT count(*) FROM orders WHERE order_id = 'P-1'")[0][0] == "0"
                )
                let audit = try await environment.pool.query(
                    "SELECT order_id, customer_id, amount_base::text, refunds_held, reason, removed_by = current_user FROM order_removals"
                )
                #expect(
                    audit.map { [$0[0], $0[1], $0[2], $0[3], $0[4], $0[5]] } == [
                        ["P-1", "C-1", "999999999.0000", "1", "amount typed in cents", "t"]
                    ]
                )
                #expect(try await environment.pool.query("SELECT held FROM orders WHERE order_id = 'R-1'")[0][0] == "t")
                let event = try await environment.pool.query("SELECT source, routing_key, body FROM crm_outbox")
                #expect(event.count == 1)
                #expect(event.first?[0] == "intake" && event.first?[1] == "order.accepted")
                #expect(event.first?[2]?.contains("C-1") == true)

                let status = try Shell.execute("crm", arguments: ["status", "--json"], environment: variables)
                let report = try #require(
                    try JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any]
                )
                let held = try #require(report["held_refunds"] as? [String: Any])
                #expect(held["count"] as? Int == 1)
                #expect(held["purchases_awaited"] as? Int == 1)
                #expect((held["oldest_seconds"] as? Double).map { $0 >= 0 } == true)
                let text = try Shell.execute("crm", arguments: ["status"], environment: variables)
                #expect(text.output.contains("1 awaiting 1 purchases"), "\(text.output)")
            }
        }

        /// An installed binary needs no checkout: `crm migrate` and the services run from any directory with the
        /// complaint rules and the retention playbook built in (the variables still override them).
        @Test func migrateAndTheServicesFindTheirDefaultsOutsideTheRepository() async throws {
            try await TestServers.withEnvironment(migrate: false) { environment in
                let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "crm-\(UUID().uuidString)"
                )
                try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: elsewhere) }
                let variables = environment.serviceVariables
                let migrate = try Shell.execute(
                    "crm",
                    arguments: ["migrate"],
                    environment: variables,
                    directory: elsewhere
                )
                #expect(migrate.status == 0, "\(migrate.output)")
                #expect(migrate.output.contains("Desks (from built-in defaults"), "\(migrate.output)")
                let publisher = AMQPPublisher(settings: environment.amqp, name: "test", logger: TestServers.logger)
                for desk in SystemHarness.desks {
                    #expect((try? await publisher.inspectQueue("desk.\(desk)")) != nil, "desk.\(desk)")
                }
                await publisher.close()
                var processes: [Process] = []
                defer { for process in processes where process.isRunning { process.terminate() } }
                for service in ["crm-complaints", "crm-alerts"] {
                    let port = TestPorts.unused()
                    processes.append(
                        try Shell.launch(
                            service,
                            environment: variables.merging(["CRM_HTTP_PORT": "\(port)"]) { $1 },
                            directory: elsewhere
                        )
                    )
                    var ready = 0
                    for _ in 0..<150 where ready != 200 {
                        try await Task.sleep(for: .milliseconds(100))
                        ready = Shell.get("http://127.0.0.1:\(port)/health/ready").status
                    }
                    #expect(ready == 200, "\(service) did not start outside the repository")
                }
                let seeded = try await environment.pool.query("SELECT source FROM complaint_rules")
                #expect(seeded.map { $0[0] } == ["built-in defaults (deploy/complaint-rules.json)"])
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
