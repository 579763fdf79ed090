import CRMContract
import Foundation

@testable import Alerts

/// Shared clock, snapshots and the deploy playbook for the alert rules tests.
enum RulesAlertFixtures {
    /// The fixed evaluation time, 2026-11-20T00:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_795_132_800)

    /// A time `days` days before ``now``.
    static func daysAgo(_ days: Double) -> Date {
        now.addingTimeInterval(-days * 86_400)
    }

    /// A healthy gold customer scored yesterday: monthly buyer, p_alive 0.9, predicted value 2000.
    static func healthy(
        stage: LifecycleStage = .maturity,
        tier: ValueTier = .gold,
        pAlive: Double? = 0.9,
        predictedValue: Double? = 2_000,
        orderCount: Int = 14,
        expectedIntervalDays: Double? = 21.5,
        daysSinceLastOrder: Double? = 10,
        scoredAt: Date = daysAgo(1)
    ) -> ScoreSnapshot {
        ScoreSnapshot(
            scoredAt: scoredAt,
            stage: stage,
            tier: tier,
            pAlive: pAlive,
            predictedValue: predictedValue,
            orderCount: orderCount,
            expectedIntervalDays: expectedIntervalDays,
            daysSinceLastOrder: daysSinceLastOrder
        )
    }

    /// `previous` evaluated a day ago, `current` now, with complaints.
    static func context(
        previous: ScoreSnapshot?,
        current: ScoreSnapshot,
        complaints: [ComplaintSignal] = [],
        lastEvaluatedAt: Date? = daysAgo(1)
    ) -> AlertContext {
        AlertContext(
            previous: previous,
            current: current,
            complaints: complaints,
            lastEvaluatedAt: lastEvaluatedAt,
            now: now
        )
    }

    /// A complaint received `days` days ago.
    static func complaint(_ id: String, daysAgo days: Double) -> ComplaintSignal {
        ComplaintSignal(complaintID: id, receivedAt: daysAgo(days))
    }

    /// The playbook shipped in deploy/, in this package's checkout.
    static let deployPlaybookURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // AlertsTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("deploy/retention-playbook.json")

    static func deployPlaybook() throws -> RetentionPlaybook {
        try RetentionPlaybook(json: Data(contentsOf: deployPlaybookURL))
    }
}
