import CRMContract
import Complaints
import Foundation
import Testing

@Suite("Escalation planning")
struct LogicEscalationTests {
    static let sla = LogicSLAClockTests.sla
    static let received = Date(timeIntervalSince1970: 1_795_000_000)

    /// What a sweeper running every `step` minutes for `hours` publishes, applying each plan's progress.
    struct Sweep {
        var warnings: [(minute: Int, target: SLATarget)] = []
        var escalations: [(minute: Int, level: Int, target: SLATarget)] = []
    }

    static func sweep(
        _ clockAt: (Int) -> SLAClock,
        priority: ComplaintPriority = .p2,
        in time: WorkingTime = .continuous,
        hours: Int = 24,
        step: Int = 5
    ) -> Sweep {
        var progress = EscalationProgress()
        var result = Sweep()
        for minute in stride(from: 0, through: hours * 60, by: step) {
            let now = received.addingTimeInterval(TimeInterval(minute * 60))
            let plan = sla.escalationPlan(
                for: clockAt(minute),
                priority: priority,
                in: time,
                progress: progress,
                now: now
            )
            result.warnings += plan.warnings.map { (minute, $0) }
            if let escalation = plan.escalation {
                result.escalations.append((minute, escalation.level, escalation.target))
            }
            progress = plan.progress
        }
        return result
    }

    static func minutes(_ value: Int) -> Date { received.addingTimeInterval(TimeInterval(value * 60)) }

    @Test("Never answered: one warning, then exactly one escalation per level at each breach, up to the maximum")
    func unanswered() {
        let result = Self.sweep { _ in SLAClock(receivedAt: Self.received) }
        #expect(result.warnings.map(\.target) == [.firstResponse])
        #expect(result.warnings.map(\.minute) == [50])  // 80% of 60 min is 48; the next sweep is at 50
        #expect(result.escalations.map(\.level) == [1, 2, 3])
        #expect(result.escalations.map(\.minute) == [60, 120, 180])
        #expect(result.escalations.allSatisfy { $0.target == .firstResponse })
    }

    @Test("Levels used up by the first response: the resolution target's first breach is still looked at, then nothing")
    func levelsUsedUp() {
        let progress = EscalationProgress(level: 3, warned: [.firstResponse])
        let plans = [200, 481].map { minute in
            Self.sla.escalationPlan(
                for: SLAClock(receivedAt: Self.received),
                priority: .p2,
                in: .continuous,
                progress: progress,
                now: Self.minutes(minute)
            )
        }
        #expect(plans.allSatisfy { $0.isEmpty })
        #expect(plans[0].nextCheckAt == Self.minutes(480))
        #expect(plans[1].nextCheckAt == nil)
    }

    @Test("Answered in time: a single warning before the resolution target, then its breaches escalate")
    func answeredInTime() {
        let result = Self.sweep { minute in
            SLAClock(receivedAt: Self.received, history: minute >= 30 ? [(.acknowledged, Self.minutes(30))] : [])
        }
        #expect(result.warnings.map(\.target) == [.resolution])
        #expect(result.warnings.map(\.minute) == [385])  // 80% of 480 min is 384
        #expect(result.escalations.map(\.level) == [1, 2, 3])
        #expect(result.escalations.map(\.minute) == [480, 960, 1440])
    }

    @Test("A late first response and a later resolution breach take successive levels")
    func mixedBreaches() {
        let result = Self.sweep { minute in
            SLAClock(receivedAt: Self.received, history: minute >= 90 ? [(.acknowledged, Self.minutes(90))] : [])
        }
        #expect(result.escalations.map(\.level) == [1, 2, 3])
        #expect(result.escalations.map(\.target) == [.firstResponse, .resolution, .resolution])
        #expect(result.escalations.map(\.minute) == [60, 480, 960])
        #expect(result.warnings.map(\.target) == [.firstResponse, .resolution])
    }

    @Test("Resolved in time: nothing is published and nothing is left to check")
    func resolved() {
        let clock = SLAClock(receivedAt: Self.received, history: [(.resolved, Self.minutes(20))])
        let plan = Self.sla.escalationPlan(
            for: clock,
            priority: .p2,
            in: .continuous,
            progress: .init(),
            now: Self.minutes(600)
        )
        #expect(plan.isEmpty)
        #expect(plan.nextCheckAt == nil)
    }

    @Test("Missed breaches are caught up one level per call, never skipping or repeating a level")
    func catchUp() {
        let clock = SLAClock(receivedAt: Self.received)
        let now = Self.minutes(200)
        var progress = EscalationProgress()
        var levels: [Int] = []
        for _ in 0..<5 {
            let plan = Self.sla.escalationPlan(for: clock, priority: .p2, in: .continuous, progress: progress, now: now)
            #expect(plan.warnings.isEmpty)  // too late to warn: the breach itself is escalated
            if let escalation = plan.escalation {
                levels.append(escalation.level)
                // After the last level: the resolution target's first breach (480 min) is still looked at.
                #expect(plan.nextCheckAt == (escalation.level < 3 ? now : Self.minutes(480)))
            }
            progress = plan.progress
        }
        #expect(levels == [1, 2, 3])
    }

    @Test("The same plan asked twice gives the escalation once")
    func idempotent() {
        let clock = SLAClock(receivedAt: Self.received)
        let first = Self.sla.escalationPlan(
            for: clock,
            priority: .p2,
            in: .continuous,
            progress: .init(level: 0, warned: [.firstResponse]),
            now: Self.minutes(61)
        )
        #expect(first.escalation?.level == 1)
        #expect(first.escalation?.breachedAt == Self.minutes(60))
        #expect(first.nextCheckAt == Self.minutes(120))
        let again = Self.sla.escalationPlan(
            for: clock,
            priority: .p2,
            in: .continuous,
            progress: first.progress,
            now: Self.minutes(61)
        )
        #expect(again.isEmpty)
    }

    @Test("With business hours the next check waits for the desk to open")
    func businessHours() throws {
        let hours = try Fixture.hours("Asia/Shanghai", [.mon, .tue, .wed, .thu, .fri], (9, 0), (18, 0))
        let clock = SLAClock(receivedAt: try Fixture.date("2026-11-20T17:30:00+08:00"))
        let plan = Self.sla.escalationPlan(
            for: clock,
            priority: .p2,
            in: .businessHours(hours),
            progress: .init(),
            now: try Fixture.date("2026-11-21T12:00:00+08:00")
        )
        #expect(plan.isEmpty)
        // 48 working minutes: 30 on Friday, 18 on Monday morning.
        #expect(plan.nextCheckAt == (try Fixture.date("2026-11-23T09:18:00+08:00")))
    }
}
