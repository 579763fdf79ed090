import CRMContract
import CRMOutbox
import CRMRuntime
import CRMSupport
import Foundation
import TestSupport
import Testing

@testable import Alerts

private typealias H = AlertsHarness

/// Desk feedback, the cooldown it starts, and the retention report built on it.
@Suite("Alerts feedback and cooldown")
struct AlertsFeedbackTests {
    /// Healthy, then in decline: only `lifecycle_decline` fires (p_alive and recency stay fine).
    private static func flip(_ id: String, tier: ValueTier = .gold, to stage: LifecycleStage, at time: Date) -> H.Score
    {
        H.Score(
            customerID: id,
            stage: stage,
            tier: tier,
            lastOrderAt: time.addingTimeInterval(-5 * 86_400),
            scoredAt: time
        )
    }

    /// A resolution dated before its alert was raised starts the cooldown at the raise, not years ago; one dated more
    /// than a day ahead is dead-lettered.
    @Test func backDatedFeedbackSkipsNoCooldownAndFeedbackAheadIsDeadLettered() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = H.publisher(environment)
            let configuration = H.settings(cooldown: .seconds(3_600))
            let start = Date().addingTimeInterval(-3_600)
            @Sendable func step(_ scores: [H.Score]) async throws {
                try await publisher.publish(scores.map { try H.event($0) })
                #expect(try await H.evaluated(scores, environment))
            }
            try await H.whileRunning(environment, settings: configuration) {
                try await step([Self.flip("B-1", to: .maturity, at: start)])
                try await step([Self.flip("B-1", to: .decline, at: start + 60)])
                let alert = try #require(try await H.storedAlerts(environment).first)
                try await publisher.publish([
                    try H.feedback(
                        alert.id,
                        .resolved,
                        outcome: .retained,
                        at: try Timestamp(rfc3339: "2020-01-01T00:00:00Z").date
                    ),
                    try H.feedback(alert.id, .acknowledged, at: Date().addingTimeInterval(2 * 86_400)),
                ])
                #expect(try await eventually { try await publisher.inspectQueue("alerts.feedback.dead").messages == 1 })
                #expect(
                    try await eventually {
                        try await H.count(
                            environment,
                            """
                            SELECT count(*) FROM retention_alert_reasons r JOIN retention_alerts a USING (alert_id)
                            WHERE NOT r.open AND r.closed_at = a.raised_at AND a.resolved_at = a.raised_at
                            """
                        ) == 1
                    }
                )
                // Into decline again at once: still within the cooldown that started at the raise.
                try await step([Self.flip("B-1", to: .maturity, at: start + 120)])
                try await step([Self.flip("B-1", to: .decline, at: start + 180)])
                #expect(try await H.storedAlerts(environment).count == 1)
            }
        }
    }

    @Test func feedbackIsKeptResolutionStartsTheCooldownAndTheReportCountsOutcomes() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = H.publisher(environment)
            // Long enough that a loaded machine still finishes the in-cooldown steps inside it.
            let configuration = H.settings(cooldown: .seconds(40), minimumTier: .silver)
            let start = Date().addingTimeInterval(-3_600)
            @Sendable func step(_ scores: [H.Score]) async throws {
                try await publisher.publish(scores.map { try H.event($0) })
                #expect(try await H.evaluated(scores, environment))
            }
            try await H.whileRunning(environment, settings: configuration) {
                try await step([
                    Self.flip("F-1", to: .maturity, at: start),
                    Self.flip("F-2", tier: .silver, to: .maturity, at: start),
                ])
                try await step([
                    Self.flip("F-1", to: .decline, at: start + 60),
                    Self.flip("F-2", tier: .silver, to: .decline, at: start + 60),
                ])
                let first = try await H.storedAlerts(environment)
                #expect(first.map(\.customer).sorted() == ["F-1", "F-2"])
                #expect(first.allSatisfy { $0.reasons == ["lifecycle_decline"] })
                let gold = try #require(first.first { $0.customer == "F-1" })
                let silver = try #require(first.first { $0.customer == "F-2" })

                // Acknowledged, resolved (twice: a redelivery), a late acknowledgement, and feedback for no alert.
                let resolvedAt = Date()
                try await publisher.publish([
                    try H.feedback(gold.id, .acknowledged, at: resolvedAt - 10),
                    try H.feedback(gold.id, .resolved, outcome: .retained, at: resolvedAt),
                    try H.feedback(gold.id, .resolved, outcome: .retained, at: resolvedAt),
                    try H.feedback(silver.id, .resolved, outcome: .lost, at: resolvedAt),
                    try H.feedback(gold.id, .acknowledged, at: resolvedAt + 1),
                    try H.feedback(UUID().uuidString.lowercased(), .resolved, outcome: .lost),
                ])
                #expect(try await eventually { try await publisher.inspectQueue("alerts.feedback.dead").messages == 1 })
                let rows = try await environment.pool.query(
                    "SELECT status, outcome, agent FROM retention_alerts WHERE alert_id = $1::uuid",
                    [gold.id]
                )
                #expect(try rows[0].decode(0, as: String.self) == "resolved")
                #expect(try rows[0].decode(1, as: String.self) == "retained")
                #expect(try rows[0].decode(2, as: String.self) == "agent-7")
                #expect(
                    try await eventually { try await H.count(environment, "SELECT count(*) FROM alert_feedback") == 4 }
                )
                #expect(try await H.count(environment, "SELECT count(*) FROM retention_alert_reasons WHERE open") == 0)
                let dead = try await publisher.inspectQueue("alerts.feedback.dead")
                #expect(dead.messages == 1)

                // Back to maturity and into decline again, within the cooldown: held back.
                try await step([Self.flip("F-1", to: .maturity, at: start + 120)])
                try await step([Self.flip("F-1", to: .decline, at: start + 180)])
                #expect(try await H.storedAlerts(environment).count == 2)

                // After the cooldown the same change raises a new alert.
                try await Task.sleep(until: .now + .seconds(max(40 - Date().timeIntervalSince(resolvedAt), 0) + 0.5))
                try await step([Self.flip("F-1", to: .maturity, at: start + 240)])
                try await step([Self.flip("F-1", to: .decline, at: start + 300)])
                let last = try await H.storedAlerts(environment)
                #expect(last.count == 3)
                #expect(last.last?.customer == "F-1" && last.last?.status == "open")
            }

            let report = try await AlertsReport.load(pool: environment.pool)
            #expect(report.total.raised == 3 && report.total.resolved == 2 && report.total.open == 1)
            let gold = try #require(report.byTier.first)
            #expect(gold.key == "gold" && gold.raised == 2 && gold.retained == 1 && gold.retentionRate == 1)
            let silver = try #require(report.byTier.last)
            #expect(silver.key == "silver" && silver.lost == 1 && silver.retentionRate == 0)
            let decline = try #require(report.byReason.first)
            #expect(decline.key == "lifecycle_decline" && decline.retentionRate == 0.5)
            #expect(report.text.contains("lifecycle_decline"))
            #expect(report.text.contains(" 50.0%"))
            // What `crm status --json` prints.
            let object = report.jsonObject
            #expect(JSONSerialization.isValidJSONObject(object))
            let tiers = try #require(object["by_tier"] as? [String: [String: Any]])
            #expect(tiers["gold"]?["retention_rate"] as? Double == 1)
            #expect(tiers["silver"]?["lost"] as? Int == 1)
            await publisher.close()
        }
    }

    @Test func aDailyCapHoldsTheLeastValuableAndReleasesThemLaterMostValuableFirst() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = H.publisher(environment)
            // Five gold customers entering decline; value at risk 10, 20, ..., 50: all p3.
            let now = Date()
            let scores = (1...5).map { index in
                H.Score(
                    customerID: "D-\(index)",
                    stage: .decline,
                    tier: .gold,
                    pAlive: 0.5,
                    predicted: Double(index) * 10,
                    lastOrderAt: now.addingTimeInterval(-5 * 86_400),
                    scoredAt: now
                )
            }
            let capped = H.settings(caps: [.p1: 0, .p2: 0, .p3: 2])
            let first = try await H.whileRunning(environment, settings: capped) {
                // Most valuable first, so however the consumer batches them the first two are D-5 and D-4.
                try await publisher.publish(scores.reversed().map { try H.event($0) })
                #expect(try await H.evaluated(scores, environment))
                return try await H.drainAlerts(environment)
            }
            #expect(first.map(\.alert.customerID.rawValue).sorted() == ["D-4", "D-5"])
            #expect(first.allSatisfy { $0.queue == "alerts.retention.p3" })
            let stored = try await H.storedAlerts(environment)
            #expect(stored.filter { $0.delivery == "held" }.map(\.customer).sorted() == ["D-1", "D-2", "D-3"])
            let counted = try await H.count(
                environment,
                "SELECT queued FROM alert_daily_counts WHERE day = $1::date AND priority = 'p3'",
                [DailyQuota.day(of: Date())]
            )
            #expect(counted == 2)

            // Tomorrow the queue has room for two again: the two most valuable held alerts go first.
            let release = HeldAlertRelease(configuration: try H.configuration(capped), outbox: Outbox(of: .alerts))
            let held = try await HeldAlertRelease.heldCounts(pool: environment.pool)
            #expect(held == [.p3: 3])
            let released = try await environment.pool.transaction { connection in
                try release.release(held, now: Date().addingTimeInterval(86_400), on: connection)
            }
            #expect(released == [.p3: 2])
            let stillHeld = try await H.storedAlerts(environment).filter { $0.delivery == "held" }.map(\.customer)
            #expect(stillHeld == ["D-1"])

            // Raising the cap releases the rest at the next tick; every alert reaches its queue once.
            let second = try await H.whileRunning(environment, settings: H.settings(caps: [.p1: 0, .p2: 0, .p3: 10])) {
                #expect(
                    try await eventually {
                        try await H.count(environment, "SELECT count(*) FROM retention_alerts WHERE delivery = 'held'")
                            == 0
                    }
                )
                #expect(try await eventually { try await H.settled(environment, publisher) })
                return try await H.drainAlerts(environment)
            }
            #expect(second.map(\.alert.customerID.rawValue).sorted() == ["D-1", "D-2", "D-3"])
            let ids = (first + second).map(\.alert.alertID.rawValue)
            #expect(Set(ids).count == 5)
            await publisher.close()
        }
    }
}
