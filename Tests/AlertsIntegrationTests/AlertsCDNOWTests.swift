import CRMAMQP
import CRMContract
import CRMOutbox
import CRMRuntime
import CRMSupport
import Foundation
import Intake
import Scoring
import TestSupport
import Testing

@testable import Alerts

private typealias H = AlertsHarness

/// The CDNOW master file replayed through intake's writer, rescored as of 1998-06-30 by scoring's full rescoring,
/// its `customer.scored` events published by scoring's relay, and alerts raised by this service.
@Suite("Alerts on CDNOW")
struct AlertsCDNOWTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/cdnow")

    @Test func rescoredAsOf19980630ValuableLapsingCustomersGetAlertsAndLowValueOnesNone() async throws {
        try await TestServers.withEnvironment { environment in
            let clock = ContinuousClock.now
            let (_, bodies) = try OrderFile.bodies(of: Self.fixtures.appendingPathComponent("CDNOW_master.txt"))
            let handler = OrderIntakeHandler(pool: environment.pool, outbox: Outbox(of: .intake), baseCurrency: "USD")
            for start in stride(from: 0, to: bodies.count, by: 2_000) {
                let batch = bodies[start..<min(start + 2_000, bodies.count)].map { InboundMessage(body: $0) }
                let dispositions = try await handler.handle(batch)
                #expect(dispositions.allSatisfy { $0 == .processed })
            }
            let asOf = try Timestamp(rfc3339: "1998-06-30T23:59:59.999Z").date
            let report = try await FullRescoring(
                pool: environment.pool,
                outbox: Outbox(of: .scoring),
                settings: ScoringConfiguration(),
                logger: TestServers.logger
            )
            .run(asOf: asOf)
            #expect(report.customers == 23_570)
            // Scoring announces a first score only in decline or termination; the sweep finds everyone else.
            let lapsingScored = try await H.count(
                environment,
                "SELECT count(*) FROM customer_scores WHERE lifecycle_stage IN ('decline', 'termination')"
            )
            #expect(report.events == lapsingScored)
            #expect(report.events > 15_000 && report.events < 23_570)
            let announced = report.events
            let loaded = ContinuousClock.now - clock

            let publisher = H.publisher(environment)
            try await publisher.connect()
            let scoringPublisher = AMQPPublisher(
                settings: environment.amqp,
                name: "scoring",
                topology: Topology.scoring,
                logger: TestServers.logger
            )
            let scoringRelay = OutboxRelay(
                source: "scoring",
                pool: environment.pool,
                publisher: scoringPublisher,
                logger: TestServers.logger
            )
            // A sweep "just ran", so the full rescoring's events come first; then a sweep takes the rest, and a
            // second sweep finds nothing: the two paths raise nothing twice.
            try await environment.pool.execute(
                "INSERT INTO alert_sweeps (instance_id, started_at, finished_at) VALUES ('test', now(), now())"
            )
            let evaluator = AlertEvaluator(
                configuration: try H.configuration(),
                playbook: try H.playbook(),
                outbox: Outbox(of: .alerts)
            )
            let sweep = AlertSweep(evaluator: evaluator, pool: environment.pool, instanceID: "test")
            let received = try await H.whileRunning(environment) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await scoringRelay.run() }
                    let done = try await eventually(.seconds(600)) {
                        let evaluated = try await H.count(environment, "SELECT count(*) FROM alert_customer_state")
                        let outbox = try await H.count(
                            environment,
                            "SELECT count(*) FROM crm_outbox WHERE source <> 'intake'"
                        )
                        let waiting = try await publisher.inspectQueue(Topology.alertEventsQueue).messages
                        return evaluated == announced && outbox == 0 && waiting == 0
                    }
                    #expect(done)
                    group.cancelAll()
                }
                let first = try #require(try await sweep.runIfDue(interval: nil))
                // The customers no event named: none of them lapsing, and no alert among them.
                #expect(first.customers == 23_570 - announced && first.tally.alerts == 0)
                let second = try #require(try await sweep.runIfDue(interval: nil))
                #expect(second.customers == 0 && second.tally.alerts == 0)
                #expect(
                    try await eventually {
                        try await H.count(environment, "SELECT count(*) FROM crm_outbox WHERE source = 'alerts'") == 0
                    }
                )
                return try await H.drainAlerts(environment)
            }
            await scoringPublisher.close()
            #expect(try await H.count(environment, "SELECT count(*) FROM alert_customer_state") == 23_570)

            let stored = try await H.storedAlerts(environment)
            #expect(stored.count > 1_000)
            #expect(received.count == stored.count)
            #expect(Set(received.map(\.alert.alertID.rawValue)) == Set(stored.map(\.id)))
            #expect(Set(stored.map(\.customer)).count == stored.count)

            // None for lower-value customers: every alerted customer is gold (the default minimum tier), though
            // many bronze and silver ones are lapsing too.
            let belowGold = try await H.count(
                environment,
                "SELECT count(*) FROM retention_alerts a JOIN customer_scores s USING (customer_id) WHERE s.tier <> 'gold'"
            )
            #expect(belowGold == 0)
            for tier in ["bronze", "silver"] {
                let lapsingBelowGold = try await H.count(
                    environment,
                    "SELECT count(*) FROM customer_scores WHERE tier = $1 AND lifecycle_stage IN ('decline', 'termination')",
                    [tier]
                )
                #expect(lapsingBelowGold > 1_000, "\(tier)")
            }

            // Every gold customer in decline or termination has an alert saying so.
            let lapsing = try await H.count(
                environment,
                "SELECT count(*) FROM customer_scores WHERE tier = 'gold' AND lifecycle_stage IN ('decline', 'termination')"
            )
            #expect(lapsing > 500)
            let missed = try await H.count(
                environment,
                """
                SELECT count(*) FROM customer_scores s
                WHERE s.tier = 'gold' AND s.lifecycle_stage IN ('decline', 'termination')
                  AND NOT EXISTS (SELECT 1 FROM retention_alerts a WHERE a.customer_id = s.customer_id
                                  AND a.reasons && ARRAY['lifecycle_decline', 'lifecycle_termination'])
                """
            )
            #expect(missed == 0)

            // Priorities follow the value-at-risk bands; the most valuable at risk lead.
            let misbanded = try await H.count(
                environment,
                """
                SELECT count(*) FROM retention_alerts
                WHERE (priority = 'p1' AND value_at_risk < 1000) OR (priority = 'p2' AND NOT value_at_risk BETWEEN 200 AND 999.99)
                   OR (priority = 'p3' AND value_at_risk >= 200)
                """
            )
            #expect(misbanded == 0)
            let top = try await environment.pool.query(
                """
                SELECT a.tier, a.suggested_action, s.lifecycle_stage FROM retention_alerts a
                JOIN customer_scores s USING (customer_id) ORDER BY a.value_at_risk DESC LIMIT 1
                """
            )
            #expect(try top[0].decode(0, as: String.self) == "gold")
            let summary = try await environment.pool.query(
                "SELECT priority, count(*), round(avg(value_at_risk), 2) FROM retention_alerts GROUP BY 1 ORDER BY 1"
            )
            let lines = try summary.map {
                "\(try $0.decode(0, as: String.self)): \(try $0.decode(1, as: Int.self)) (mean \(try $0.decode(2, as: String.self)))"
            }
            print(
                "CDNOW as of 1998-06-30 (stored and rescored in \(loaded), alerts in \(ContinuousClock.now - clock - loaded)): \(stored.count) alerts of 23570 customers; \(lines.joined(separator: ", "))"
            )
            await publisher.close()
        }
    }
}
