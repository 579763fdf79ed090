import CRMSupport
import Complaints
import Foundation
import Testing

@Suite("SLA clock")
struct LogicSLAClockTests {
    /// p2: first response 60 min, resolution 480 min; around the clock.
    static let sla = SLAPolicy(targets: [
        .p1: .init(firstResponse: .seconds(15 * 60), resolution: .seconds(240 * 60)),
        .p2: .init(firstResponse: .seconds(60 * 60), resolution: .seconds(480 * 60)),
        .p3: .init(firstResponse: .seconds(240 * 60), resolution: .seconds(1440 * 60)),
        .p4: .init(firstResponse: .seconds(480 * 60), resolution: .seconds(2880 * 60)),
    ])

    static func at(_ hhmm: String, day: Int = 23) throws -> Date {
        try Fixture.date("2026-11-\(day)T\(hhmm):00Z")
    }

    @Test("A fresh clock is due at the targets from receipt")
    func fresh() throws {
        let clock = SLAClock(receivedAt: try Self.at("09:00"))
        let deadlines = Self.sla.deadlines(for: clock, priority: .p2, in: .continuous)
        #expect(deadlines.firstResponseDue == (try Self.at("10:00")))
        #expect(deadlines.resolutionDue == (try Self.at("17:00")))
    }

    @Test("Acknowledgement stops the first-response clock, not the resolution clock")
    func acknowledgementStops() throws {
        var clock = SLAClock(receivedAt: try Self.at("09:00"))
        #expect(
            clock.apply(.acknowledged, at: try Self.at("09:30")) == .applied(from: .awaitingResponse, to: .inProgress)
        )
        #expect(!clock.isRunning(.firstResponse))
        #expect(clock.isRunning(.resolution))
        let deadlines = Self.sla.deadlines(for: clock, priority: .p2, in: .continuous)
        #expect(deadlines.firstResponseDue == nil)
        #expect(deadlines.resolutionDue == (try Self.at("17:00")))
        // After the first-response target has passed, nothing is breached: it stopped in time.
        let plan = Self.sla.escalationPlan(
            for: clock,
            priority: .p2,
            in: .continuous,
            progress: .init(),
            now: try Self.at("11:00")
        )
        #expect(plan.escalation == nil)
    }

    @Test("A late acknowledgement keeps the breached due time")
    func lateAcknowledgement() throws {
        var clock = SLAClock(receivedAt: try Self.at("09:00"))
        clock.apply(.acknowledged, at: try Self.at("10:30"))
        #expect(
            Self.sla.deadlines(for: clock, priority: .p2, in: .continuous).firstResponseDue == (try Self.at("10:00"))
        )
    }

    @Test("Reopening resumes the resolution clock; time while resolved does not count")
    func reopenResumes() throws {
        var clock = SLAClock(receivedAt: try Self.at("09:00"))
        clock.apply(.acknowledged, at: try Self.at("09:10"))
        clock.apply(.resolved, at: try Self.at("11:00"))  // two of eight hours used
        #expect(Self.sla.deadlines(for: clock, priority: .p2, in: .continuous).resolutionDue == nil)
        #expect(clock.apply(.reopened, at: try Self.at("09:00", day: 24)) == .applied(from: .resolved, to: .inProgress))
        #expect(
            Self.sla.deadlines(for: clock, priority: .p2, in: .continuous).resolutionDue
                == (try Self.at("15:00", day: 24))
        )
        clock.apply(.resolved, at: try Self.at("10:00", day: 24))  // three used
        clock.apply(.reopened, at: try Self.at("12:00", day: 25))
        #expect(
            Self.sla.deadlines(for: clock, priority: .p2, in: .continuous).resolutionDue
                == (try Self.at("17:00", day: 25))
        )
    }

    @Test("Resolving without an acknowledgement is also the first response")
    func resolveResponds() throws {
        var clock = SLAClock(receivedAt: try Self.at("09:00"))
        clock.apply(.resolved, at: try Self.at("09:20"))
        #expect(clock.respondedAt == (try Self.at("09:20")))
        #expect(clock.state == .resolved)
    }

    @Test("Events that do not fit the state are ignored")
    func ignored() throws {
        var clock = SLAClock(receivedAt: try Self.at("09:00"))
        #expect(clock.apply(.reopened, at: try Self.at("09:05")) == .ignored(.awaitingResponse))
        clock.apply(.acknowledged, at: try Self.at("09:10"))
        #expect(clock.apply(.acknowledged, at: try Self.at("09:20")) == .ignored(.inProgress))
        #expect(clock.respondedAt == (try Self.at("09:10")))
        clock.apply(.resolved, at: try Self.at("10:00"))
        #expect(clock.apply(.resolved, at: try Self.at("10:30")) == .ignored(.resolved))
        #expect(clock.resolutionPeriods.last?.end == (try Self.at("10:00")))
    }

    @Test("A history is applied in time order whatever order it arrived in")
    func outOfOrderHistory() throws {
        let received = try Self.at("09:00")
        let inOrder = SLAClock(
            receivedAt: received,
            history: [
                (.acknowledged, try Self.at("09:10")), (.resolved, try Self.at("10:00")),
                (.reopened, try Self.at("11:00")),
            ]
        )
        let shuffled = SLAClock(
            receivedAt: received,
            history: [
                (.reopened, try Self.at("11:00")), (.acknowledged, try Self.at("09:10")),
                (.resolved, try Self.at("10:00")),
            ]
        )
        #expect(shuffled == inOrder)
        #expect(shuffled.state == .inProgress)
        #expect(shuffled.resolutionPeriods.count == 2)
    }

    @Test("An event dated before receipt counts from receipt")
    func backdated() throws {
        var clock = SLAClock(receivedAt: try Self.at("09:00"))
        clock.apply(.resolved, at: try Self.at("08:00"))
        #expect(clock.resolutionPeriods == [.init(start: try Self.at("09:00"), end: try Self.at("09:00"))])
    }
}
