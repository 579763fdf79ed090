import CRMContract
import Complaints
import Foundation
import Testing

@Suite("Policy with the shipped rules")
struct LogicPolicyTests {
    /// Monday 23 November 2026, 10:00 in Shanghai.
    static func complaint(_ body: String) throws -> ComplaintFacts {
        ComplaintFacts(
            receivedAt: try Fixture.date("2026-11-23T10:00:00+08:00"),
            channel: "app",
            body: body,
            language: "zh-CN"
        )
    }

    @Test("A customer never seen is classified, prioritised and routed with what is known")
    func unknownCustomer() throws {
        let decision = try Fixture.policy().decide(try Self.complaint("包裹一直没有送到"), customer: .unknown)
        #expect(decision.category == .delivery)
        #expect(decision.severity == .medium)
        #expect(decision.priority == .p3)
        #expect(decision.routing.desk.queue == "desk.logistics")
        #expect(decision.routing.matchedRule == "delivery")
        // p3: four working hours to respond, 24 to resolve, on a 09:00-21:00 desk.
        #expect(decision.deadlines.firstResponseDue == (try Fixture.date("2026-11-23T14:00:00+08:00")))
        #expect(decision.deadlines.resolutionDue == (try Fixture.date("2026-11-25T10:00:00+08:00")))
        #expect(decision.clock.state == .awaitingResponse)
    }

    @Test("A gold customer's medium complaint goes to the priority desk ahead of a bronze one")
    func goldCustomer() throws {
        let policy = try Fixture.policy()
        let complaint = try Self.complaint("重复扣款，要求退款")
        let gold = policy.decide(
            complaint,
            customer: CustomerSnapshot(tier: .gold, lifecycleStage: .maturity, ordersCount: 40)
        )
        let bronze = policy.decide(complaint, customer: CustomerSnapshot(tier: .bronze, ordersCount: 1))
        #expect(gold.priority == .p2)
        #expect(gold.routing.matchedRule == "gold-urgent")
        #expect(bronze.priority == .p3)
        #expect(bronze.routing.desk.name == "billing")
        #expect(gold.priority < bronze.priority)
    }

    @Test(
        "Signals route to the specialist desks first",
        arguments: [
            ("充电器起火了，孩子的手被烫伤", "safety", ComplaintPriority.p1),
            ("信用卡被盗刷，未经授权扣款", "risk", .p1),
            ("不退款就找律师起诉你们", "legal", .p2),
            ("我已经向消协投诉了", "legal", .p2),
        ]
    )
    func specialistDesks(text: String, desk: String, priority: ComplaintPriority) throws {
        let decision = try Fixture.policy().decide(try Self.complaint(text), customer: CustomerSnapshot(tier: .silver))
        #expect(decision.routing.desk.name == desk)
        #expect(decision.priority == priority)
    }

    @Test("A safety complaint on a round-the-clock desk is due in fifteen minutes, night or day")
    func safetyAtNight() throws {
        let facts = ComplaintFacts(
            receivedAt: try Fixture.date("2026-11-21T03:00:00+08:00"),
            channel: "phone",
            body: "The heater exploded"
        )
        let decision = try Fixture.policy().decide(facts, customer: .unknown)
        #expect(decision.routing.desk.name == "safety")
        #expect(decision.deadlines.firstResponseDue == (try Fixture.date("2026-11-21T03:15:00+08:00")))
    }

    @Test("A customer's region can choose the desk")
    func region() throws {
        let decision = try Fixture.policy().decide(
            try Self.complaint("包裹一直没有送到"),
            customer: CustomerSnapshot(tier: .bronze, region: "overseas")
        )
        #expect(decision.routing.desk.name == "international")
    }

    @Test("The sweeper plans in the desk's working time, and a removed desk counts around the clock")
    func sweeperWorkingTime() throws {
        let policy = try Fixture.policy()
        let clock = SLAClock(receivedAt: try Fixture.date("2026-11-23T20:50:00+08:00"))
        let onDesk = policy.escalationPlan(
            for: clock,
            priority: .p2,
            desk: "logistics",
            progress: .init(),
            now: try Fixture.date("2026-11-23T22:00:00+08:00")
        )
        #expect(onDesk.isEmpty)  // 10 working minutes so far: the desk closed at 21:00
        let removed = policy.escalationPlan(
            for: clock,
            priority: .p2,
            desk: "closed_last_year",
            progress: .init(),
            now: try Fixture.date("2026-11-23T22:00:00+08:00")
        )
        #expect(removed.escalation?.level == 1)
    }
}
