import CRMOutbox
import CRMRuntime
import Foundation
import Scoring
import TestSupport
import Testing

/// `crm customer ID flag/unflag` and `crm customer ID --timeline` as the built executable runs them.
@Suite struct CustomerTimelineTests {
    static func json(_ arguments: [String], _ variables: [String: String]) throws -> [String: Any] {
        let run = try Shell.execute("crm", arguments: arguments, environment: variables)
        #expect(run.status == 0, "\(arguments)")
        return try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
    }

    @Test func flagsShowInTheObjectAndTheTimelineHoldsEveryEventInTimeOrder() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            let variables = environment.serviceVariables
            try await ScoringHarness.store(
                [
                    ScoringHarness.order("O-1", customer: "A", at: "2026-01-05T10:00:00Z", amount: "120.00"),
                    ScoringHarness.order("O-2", customer: "A", at: "2026-02-10T10:00:00Z", amount: "80.00"),
                    ScoringHarness.order(
                        "O-3",
                        customer: "A",
                        at: "2026-02-12T10:00:00Z",
                        amount: "30.00",
                        kind: "refund",
                        original: "O-2"
                    ),
                ],
                pool: environment.pool
            )
            let rescoring = ScoringHarness.rescoring(environment.pool)
            _ = try await rescoring.run(asOf: try ScoringHarness.endOfDay("2026-03-01"))
            // An alert with the desk's feedback, and a complaint with a status update, as those services store them.
            for statement in [
                """
                INSERT INTO retention_alerts (alert_id, customer_id, raised_at, scored_at, priority, reasons,
                    value_at_risk, tier, lifecycle_stage, suggested_action, evidence, body, delivery, status)
                VALUES ('6f1c2f6e-0000-4000-8000-000000000001', 'A', '2026-02-20T08:00:00Z', '2026-02-20T08:00:00Z',
                    'p2', '{lifecycle_decline}', 150, 'gold', 'decline', 'call', '[]', '{}', 'queued', 'resolved')
                """,
                """
                INSERT INTO alert_feedback (alert_id, status, outcome, at, agent, note)
                VALUES ('6f1c2f6e-0000-4000-8000-000000000001', 'resolved', 'retained', '2026-02-21T09:00:00Z',
                    'desk-7', 'called back')
                """,
                """
                INSERT INTO complaints (complaint_id, customer_id, received_at, channel, subject, message, category,
                    category_source, category_score, severity, priority, desk, matched_rule, rules_version,
                    open_complaints, routed, state)
                VALUES ('K-1', 'A', '2026-02-11T12:00:00Z', 'email', 'Late parcel', '{}', 'delivery', 'rules', 3,
                    'medium', 'p2', 'logistics', 'delivery', 1, 0, '{}', 'resolved')
                """,
                """
                INSERT INTO complaint_status_events (complaint_id, status, at, agent, resolution, message)
                VALUES ('K-1', 'resolved', '2026-02-13T15:00:00Z', 'desk-2', 'refunded', '{}')
                """,
            ] {
                try await environment.pool.execute(statement)
            }

            // Flags: set, renewed, shown, cleared; bad words exit 64 naming them, an unknown customer exits 1.
            #expect(
                try Shell.execute(
                    "crm",
                    arguments: ["customer", "A", "flag", "fraud", "--note", "chargeback"],
                    environment: variables
                )
                .status == 0
            )
            #expect(
                try Shell.execute("crm", arguments: ["customer", "A", "flag", "opt_out"], environment: variables).status
                    == 0
            )
            let renewed = try Shell.execute(
                "crm",
                arguments: ["customer", "A", "flag", "opt_out"],
                environment: variables
            )
            #expect(renewed.status == 0 && renewed.output.contains("already"))
            #expect(
                try Self.json(["customer", "A", "--json"], variables)["flags"] as? [String] == ["fraud", "opt_out"]
            )
            #expect(
                try Shell.execute("crm", arguments: ["customer", "A", "unflag", "opt_out"], environment: variables)
                    .status == 0
            )
            #expect(try Self.json(["customer", "A", "--json"], variables)["flags"] as? [String] == ["fraud"])
            let listed = try Shell.execute(
                "crm",
                arguments: ["customers", "--flag", "fraud", "--format", "jsonl"],
                environment: variables
            )
            #expect(listed.output.split(separator: "\n").count == 1 && listed.output.contains(#""customer_id":"A""#))
            for arguments in [
                ["A", "flag", "vip"], ["A", "flag"], ["A", "star", "fraud"], ["A", "unflag", "fraud", "--note", "x"],
            ] {
                #expect(
                    try Shell.execute("crm", arguments: ["customer"] + arguments, environment: variables).status == 64,
                    "\(arguments)"
                )
            }
            #expect(
                try Shell.execute("crm", arguments: ["customer", "nobody", "flag", "fraud"], environment: variables)
                    .status == 1
            )

            let timeline = try Self.json(["customer", "A", "--timeline", "--json"], variables)
            #expect(timeline["customer_id"] as? String == "A")
            let events = try #require(timeline["events"] as? [[String: Any]])
            let times = events.compactMap { $0["at"] as? String }
            #expect(times == times.sorted(), "events in time order")
            let types = events.compactMap { $0["type"] as? String }
            let expected: [String] = [
                "order", "order", "complaint", "order", "complaint_status", "alert", "alert_feedback", "score_change",
                "flagged", "flagged", "flagged", "unflagged",
            ]
            #expect(types == expected)
            #expect(events.first?["at"] as? String == "2026-01-05T10:00:00.000Z")
            #expect(events[3]["kind"] as? String == "refund")
            #expect(events[6]["outcome"] as? String == "retained" && events[6]["note"] as? String == "called back")
            #expect(events[8]["note"] as? String == "chargeback")
            let human = try Shell.execute("crm", arguments: ["customer", "A", "--timeline"], environment: variables)
            #expect(human.status == 0 && human.output.split(separator: "\n").count == 1 + expected.count)
            #expect(
                try Shell.execute("crm", arguments: ["customer", "nobody", "--timeline"], environment: variables).status
                    == 1
            )
        }
    }
}
