import CRMAMQP
import CRMPostgres
import CRMSchema
import Foundation
import TestSupport
import Testing

extension SystemTests {
    /// The operators' commands of the Operating section, run as the real `crm` executable.
    @Suite("Operations commands")
    struct OperationsCommandTests {
        /// Rows of every kind that can hold a customer's personal data, each with `marker` in its free text.
        static func plantPersonalData(_ pool: PostgresPool, customer: String, marker: String) async throws {
            try await pool.execute(
                "INSERT INTO customers (customer_id, name, email, region) VALUES ($1, $2, $3, 'east')",
                [customer, "Name \(marker)", "\(marker.lowercased())@example.com"]
            )
            try await pool.execute(
                """
                INSERT INTO orders (order_id, customer_id, kind, occurred_at, amount, currency, amount_base, held,
                                    content_hash)
                VALUES ('O-1', $1, 'purchase', now() - interval '3 days', 120, 'USD', 120, false, 'h1'),
                       ('R-1', $1, 'refund', now() - interval '1 day', 20, 'USD', 20, true, 'h2')
                """,
                [customer]
            )
            let order =
                #"{"schema":"order.v1","order_id":"R-1","customer_id":"\#(customer)","kind":"refund","customer":{"name":"Name \#(marker)","email":"x@\#(marker).example","region":"east"}}"#
            try await pool.execute("INSERT INTO held_refunds (order_id, body) VALUES ('R-1', $1)", [order])
            let complaint =
                #"{"schema":"complaint.v1","complaint_id":"K-1","customer_id":"\#(customer)","received_at":"2026-01-01T00:00:00Z","channel":"email","subject":"Subject \#(marker)","body":"Body \#(marker)","x_phone":"\#(marker)"}"#
            let routed =
                #"{"schema":"complaint.v1","complaint_id":"K-1","customer_id":"\#(customer)","channel":"email","subject":"Subject \#(marker)","body":"Body \#(marker)","x_phone":"\#(marker)","desk":"general","priority":"p2","customer":{"tier":"gold","clv":"100.00"}}"#
            try await pool.execute(
                """
                INSERT INTO complaints (complaint_id, customer_id, received_at, channel, subject, body, message, category,
                    category_source, category_score, severity, priority, desk, matched_rule, rules_version,
                    open_complaints, routed)
                VALUES ('K-1', $1, now(), 'email', $2, $3, $4, 'delivery', 'rules', 3, 'medium', 'p2', 'general',
                        'default', 1, 1, $5)
                """,
                [customer, "Subject \(marker)", "Body \(marker)", complaint, routed]
            )
            try await pool.execute(
                """
                INSERT INTO complaint_status_events (complaint_id, status, at, agent, resolution, message)
                VALUES ('K-1', 'resolved', now(), 'agent-7', $1, $2)
                """,
                [
                    "Refunded \(marker)",
                    #"{"schema":"complaint-status.v1","complaint_id":"K-1","status":"resolved","at":"2026-01-02T00:00:00Z","agent":"agent-7","resolution":"Refunded \#(marker)"}"#,
                ]
            )
            try await pool.execute(
                """
                INSERT INTO retention_alerts (alert_id, customer_id, raised_at, scored_at, priority, reasons, value_at_risk,
                    tier, lifecycle_stage, suggested_action, evidence, body, delivery, status)
                VALUES ('6f1c3c1e-8d5e-4a43-9d4e-2a1f0b7e5c11', $1, now(), now(), 'p2', '{lifecycle_decline}', 300,
                        'gold', 'decline', 'call', '{}', '{}', 'queued', 'acknowledged')
                """,
                [customer]
            )
            try await pool.execute(
                """
                INSERT INTO alert_feedback (alert_id, status, at, agent, note)
                VALUES ('6f1c3c1e-8d5e-4a43-9d4e-2a1f0b7e5c11', 'acknowledged', now(), 'agent-7', $1)
                """,
                ["Spoke to \(marker) on the phone"]
            )
            try await pool.execute(
                """
                INSERT INTO crm_outbox (source, exchange, routing_key, message_id, body)
                VALUES ('complaints', 'crm.desks', 'desk.general', 'm-1', $1),
                       ('intake', 'crm.dead', 'intake.orders', 'm-2', $2)
                """,
                [routed, order]
            )
        }

        /// Every row of every table, and every outbox body, as text, that contains `marker`.
        static func rowsHolding(_ marker: String, _ pool: PostgresPool) async throws -> [String] {
            let tables = try await pool.query(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            ).map { $0[0] ?? "" }
            #expect(tables.count > 20)
            var found: [String] = []
            for table in tables {
                // Table names come from the catalogue, never from input.
                let count: Int = try await pool.query(
                    "SELECT count(*) FROM \"\(table)\" AS t WHERE lower(t::text) LIKE '%' || lower($1) || '%'",
                    [marker]
                )[0].decode(0)
                if count > 0 { found.append("\(table): \(count)") }
            }
            return found
        }

        @Test func forgettingACustomerLeavesNothingPersonalAndKeepsTheFigures() async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                let marker = "ZQXMARK\(Int.random(in: 1000...9999))"
                try await Self.plantPersonalData(environment.pool, customer: "C-77", marker: marker)
                #expect(try await Self.rowsHolding(marker, environment.pool).count >= 6)
                let result = try Shell.execute(
                    "crm",
                    arguments: ["customer", "C-77", "forget", "--reason", "erasure request 12", "--json"],
                    environment: environment.serviceVariables
                )
                #expect(result.status == 0, "\(result.output)")
                let report = try #require(
                    try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
                )
                let erased = try #require(report["erased"] as? [String: Int])
                #expect(erased["complaints"] == 1 && erased["held_refunds"] == 1 && erased["outbox_messages"] == 2)
                #expect(erased["feedback_notes"] == 1 && erased["status_updates"] == 1 && erased["customers"] == 1)
                let left = try await Self.rowsHolding(marker, environment.pool)
                #expect(left.isEmpty, "personal data left after forget: \(left)")
                // The figures and codes stay.
                let kept = try await environment.pool.query(
                    """
                    SELECT (SELECT count(*) FROM orders WHERE customer_id = 'C-77'),
                           (SELECT region FROM customers WHERE customer_id = 'C-77'),
                           (SELECT category || '/' || priority || '/' || desk FROM complaints WHERE complaint_id = 'K-1'),
                           (SELECT routed::jsonb #>> '{customer,tier}' FROM complaints WHERE complaint_id = 'K-1'),
                           (SELECT value_at_risk::text FROM retention_alerts WHERE customer_id = 'C-77'),
                           (SELECT reason || ' by ' || erased_by FROM customer_erasures WHERE customer_id = 'C-77')
                    """
                )[0]
                #expect(kept[0] == "2" && kept[1] == "east" && kept[2] == "delivery/p2/general" && kept[3] == "gold")
                #expect(kept[4] == "300")
                #expect(kept[5]?.hasPrefix("erasure request 12 by ") == true)
                // An unknown customer is an error, not a silent success.
                let unknown = try Shell.execute(
                    "crm",
                    arguments: ["customer", "NOBODY", "forget"],
                    environment: environment.serviceVariables
                )
                #expect(unknown.status == 1)
            }
        }

        @Test func statusFailsWhenTheBrokerRefusesOrIsAwayAndTheURLIsChecked() async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                var variables = environment.serviceVariables
                let good = try Shell.execute("crm", arguments: ["status", "--json"], environment: variables)
                #expect(good.status == 0)
                let report = try #require(
                    try JSONSerialization.jsonObject(with: Data(good.output.utf8)) as? [String: Any]
                )
                let queues = try #require(report["queues"] as? [[String: Any]])
                #expect(queues.contains { $0["queue"] as? String == "intake.orders" && $0["exists"] as? Bool != nil })
                #expect(report["complaints"] is [Any])
                // A wrong password and a closed port: exit 1, nothing printed as if the queues were merely absent.
                let amqp = variables["CRM_AMQP_URL"] ?? ""
                variables["CRM_AMQP_URL"] = amqp.replacingOccurrences(
                    of: #"://([^:]+):[^@]+@"#,
                    with: "://$1:wrong-password@",
                    options: .regularExpression
                )
                #expect(try Shell.execute("crm", arguments: ["status"], environment: variables).status == 1)
                variables["CRM_AMQP_URL"] = "amqp://u:p@127.0.0.1:1/crm"
                #expect(try Shell.execute("crm", arguments: ["status", "--json"], environment: variables).status == 1)
                // A malformed database URL is a configuration error.
                variables = environment.serviceVariables
                variables["CRM_DATABASE_URL"] = "postgres//nobody"
                #expect(try Shell.execute("crm", arguments: ["status"], environment: variables).status == 2)
            }
        }
    }
}
