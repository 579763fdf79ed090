import CRMSupport
import Foundation
import TestSupport
import Testing

@testable import Alerts

private typealias H = AlertsHarness

/// Two replicas, redelivered events and sweeps every few milliseconds, all at once: one alert per customer and reason.
@Suite("Alerts replicas")
struct AlertsReplicaTests {
    @Test func twoReplicasRedeliveriesAndRepeatedSweepsRaiseEachAlertOnce() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = H.publisher(environment)
            let now = Date()
            let customers = 300
            let healthy = (0..<customers).map { index in
                H.Score(customerID: "R-\(index)", pAlive: 0.9, lastOrderAt: now - 5 * 86_400, scoredAt: now - 7_200)
            }
            let declined = healthy.map { score in
                var score = score
                score.stage = .decline
                score.scoredAt = now - 3_600
                return score
            }
            // Scoring's rows say "decline" and so do the events, each delivered twice, shuffled: consumers and
            // sweeps of both replicas race for the same customers.
            try await H.store(healthy, environment)
            let configuration = H.settings(sweepInterval: .milliseconds(30))
            let received = try await H.whileRunning(environment, settings: configuration, replicas: 2) {
                #expect(
                    try await eventually {
                        try await H.count(environment, "SELECT count(*) FROM alert_customer_state") == customers
                    }
                )
                try await H.store(declined, environment)
                try await publisher.publish((declined + declined).shuffled().map { try H.event($0) })
                #expect(try await H.evaluated(declined, environment))
                #expect(try await eventually { try await H.settled(environment, publisher) })
                #expect(try await H.count(environment, "SELECT count(*) FROM retention_alerts") == customers)

                // A full rescoring later: everyone is silent past twice their interval, and no event says so.
                let silent = declined.map { score in
                    var score = score
                    score.scoredAt = now
                    score.lastOrderAt = now - 60 * 86_400
                    return score
                }
                try await H.store(silent, environment)
                #expect(
                    try await eventually {
                        try await H.count(environment, "SELECT count(*) FROM retention_alerts") == 2 * customers
                    }
                )
                // More sweeps find nothing new.
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await H.evaluated(silent, environment))
                return try await H.drainAlerts(environment)
            }
            let stored = try await H.storedAlerts(environment)
            #expect(stored.count == 2 * customers)
            #expect(received.count == 2 * customers)
            #expect(Set(received.map(\.alert.alertID.rawValue)) == Set(stored.map(\.id)))
            let pairs = stored.flatMap { alert in alert.reasons.map { "\(alert.customer)/\($0)" } }
            #expect(Set(pairs).count == pairs.count)
            #expect(Set(pairs).count == 2 * customers)
            let sweeps = try await H.count(environment, "SELECT count(DISTINCT instance_id) FROM alert_sweeps")
            #expect(sweeps >= 1)
            let overlapping = try await H.count(
                environment,
                """
                SELECT count(*) FROM alert_sweeps a JOIN alert_sweeps b ON a.id < b.id
                WHERE b.started_at < coalesce(a.finished_at, 'infinity') AND a.started_at < coalesce(b.finished_at, 'infinity')
                """
            )
            #expect(overlapping == 0)
            await publisher.close()
        }
    }
}
