import CRMContract
import CRMSupport
import Foundation
import Testing

@testable import Alerts

@Suite("Alert triggers")
struct RulesAlertTriggerTests {
    private typealias F = RulesAlertFixtures
    private let trigger = AlertTrigger()

    private func reasons(_ previous: ScoreSnapshot?, _ current: ScoreSnapshot) -> [AlertReason] {
        trigger.findings(F.context(previous: previous, current: current)).map(\.reason)
    }

    @Test("nothing fires for a customer who stays healthy")
    func quiet() {
        #expect(reasons(F.healthy(), F.healthy()).isEmpty)
    }

    @Test("lifecycle: fires on moving into decline or termination, not while staying there")
    func lifecycle() {
        #expect(reasons(F.healthy(), F.healthy(stage: .decline)) == [.lifecycleDecline])
        #expect(reasons(F.healthy(stage: .decline), F.healthy(stage: .decline)).isEmpty)
        #expect(reasons(F.healthy(stage: .decline), F.healthy(stage: .termination)) == [.lifecycleTermination])
        #expect(reasons(F.healthy(stage: .termination), F.healthy(stage: .termination)).isEmpty)
        #expect(reasons(F.healthy(), F.healthy(stage: .growth)).isEmpty)
        #expect(reasons(nil, F.healthy(stage: .decline)) == [.lifecycleDecline])
        let finding = trigger.findings(F.context(previous: F.healthy(), current: F.healthy(stage: .decline)))
        #expect(finding.first?.evidence == .stageEntered(from: .maturity, to: .decline))
    }

    @Test("p_alive low: strictly below 0.3, only on crossing")
    func pAliveLow() {
        #expect(reasons(F.healthy(pAlive: 0.35), F.healthy(pAlive: 0.29)) == [.pAliveLow])
        #expect(reasons(F.healthy(pAlive: 0.35), F.healthy(pAlive: 0.3)).isEmpty)
        #expect(reasons(F.healthy(pAlive: 0.29), F.healthy(pAlive: 0.2)).isEmpty)
        #expect(reasons(F.healthy(pAlive: nil), F.healthy(pAlive: 0.1)) == [.pAliveLow])
    }

    @Test("p_alive drop: more than 0.2 since the last evaluation; exactly 0.2 does not fire")
    func pAliveDrop() {
        #expect(reasons(F.healthy(pAlive: 0.8), F.healthy(pAlive: 0.59)) == [.pAliveDrop])
        #expect(reasons(F.healthy(pAlive: 0.8), F.healthy(pAlive: 0.6)).isEmpty)
        #expect(reasons(F.healthy(pAlive: 0.5), F.healthy(pAlive: 0.25)) == [.pAliveLow, .pAliveDrop])
        #expect(reasons(nil, F.healthy(pAlive: 0.5)).isEmpty)
    }

    @Test("overdue: beyond 2 × own interval, with at least 14 silent days and 3 orders, on crossing")
    func overdue() {
        let previous = F.healthy(expectedIntervalDays: 20, daysSinceLastOrder: 30)
        #expect(reasons(previous, F.healthy(expectedIntervalDays: 20, daysSinceLastOrder: 40)).isEmpty)
        #expect(reasons(previous, F.healthy(expectedIntervalDays: 20, daysSinceLastOrder: 40.5)) == [.overduePurchase])
        let alreadyOverdue = F.healthy(expectedIntervalDays: 20, daysSinceLastOrder: 41)
        #expect(reasons(alreadyOverdue, F.healthy(expectedIntervalDays: 20, daysSinceLastOrder: 42)).isEmpty)
        // A weekly buyer silent 13 days is past 2 × 5 days but under the 14-day floor.
        #expect(reasons(nil, F.healthy(expectedIntervalDays: 5, daysSinceLastOrder: 13)).isEmpty)
        #expect(reasons(nil, F.healthy(expectedIntervalDays: 5, daysSinceLastOrder: 14)) == [.overduePurchase])
        // Two orders make one gap: not enough to call a rhythm.
        #expect(reasons(nil, F.healthy(orderCount: 2, expectedIntervalDays: 20, daysSinceLastOrder: 60)).isEmpty)
    }

    @Test("tier downgrade: from gold to a lower tier by default; configurable")
    func tierDowngrade() {
        #expect(reasons(F.healthy(tier: .gold), F.healthy(tier: .silver)) == [.tierDowngrade])
        #expect(reasons(F.healthy(tier: .gold), F.healthy(tier: .bronze)) == [.tierDowngrade])
        #expect(reasons(F.healthy(tier: .silver), F.healthy(tier: .bronze)).isEmpty)
        #expect(reasons(F.healthy(tier: .silver), F.healthy(tier: .gold)).isEmpty)
        let fromSilver = AlertTrigger(settings: AlertSettings(downgradeFromTier: .silver))
        let context = F.context(previous: F.healthy(tier: .silver), current: F.healthy(tier: .bronze))
        #expect(fromSilver.findings(context).map(\.reason) == [.tierDowngrade])
    }

    @Test("complaint from a valuable customer: new complaints at the standing tier")
    func valuableComplaint() {
        let complaints = [F.complaint("K-7", daysAgo: 0.5)]
        func fired(
            _ previous: ScoreSnapshot?,
            _ current: ScoreSnapshot,
            lastEvaluatedAt: Date? = F.daysAgo(1)
        )
            -> [AlertReason]
        {
            let context = F.context(
                previous: previous,
                current: current,
                complaints: complaints,
                lastEvaluatedAt: lastEvaluatedAt
            )
            return trigger.findings(context).map(\.reason)
        }
        #expect(fired(F.healthy(), F.healthy()) == [.complaintValuableCustomer])
        #expect(fired(F.healthy(tier: .silver), F.healthy(tier: .silver)).isEmpty)
        // Just downgraded from gold: still treated as gold.
        #expect(
            fired(F.healthy(tier: .gold), F.healthy(tier: .silver)) == [.tierDowngrade, .complaintValuableCustomer]
        )
        // Already seen at the last evaluation.
        #expect(fired(F.healthy(), F.healthy(), lastEvaluatedAt: F.daysAgo(0.25)).isEmpty)
        let evidence = trigger.findings(F.context(previous: nil, current: F.healthy(), complaints: complaints)).first?
            .evidence
        #expect(evidence == .complaintReceived(complaintIDs: ["K-7"], tier: .gold))
    }

    @Test("complaints named new by id count as new whatever their received_at")
    func newComplaintsByID() {
        // Received before the last evaluation, but it reached the service only now.
        let late = [F.complaint("K-7", daysAgo: 2)]
        var context = F.context(previous: F.healthy(), current: F.healthy(), complaints: late)
        #expect(trigger.findings(context).isEmpty)
        context.newComplaintIDs = ["K-7"]
        #expect(trigger.findings(context).map(\.reason) == [.complaintValuableCustomer])
        // Named as already weighed: a complaint after the last evaluation is not new either.
        context.complaints = [F.complaint("K-8", daysAgo: 0.1)]
        context.newComplaintIDs = []
        #expect(trigger.findings(context).isEmpty)
    }

    @Test("repeated complaints: three distinct in the last 30 days, one of them new")
    func repeatedComplaints() {
        let silver = F.healthy(tier: .silver)
        func fired(_ complaints: [ComplaintSignal]) -> [AlertReason] {
            trigger.findings(F.context(previous: silver, current: silver, complaints: complaints)).map(\.reason)
        }
        let older = [F.complaint("K-1", daysAgo: 20), F.complaint("K-2", daysAgo: 10)]
        #expect(fired(older + [F.complaint("K-3", daysAgo: 0.5)]) == [.repeatedComplaints])
        #expect(fired(older).isEmpty)
        #expect(fired([F.complaint("K-1", daysAgo: 20), F.complaint("K-3", daysAgo: 0.5)]).isEmpty)
        // Exactly 30 days ago is outside the window (now − 30 days, now].
        #expect(
            fired([F.complaint("K-0", daysAgo: 30), F.complaint("K-2", daysAgo: 10), F.complaint("K-3", daysAgo: 0.5)])
                .isEmpty
        )
        // The same complaint delivered twice counts once.
        #expect(
            fired([F.complaint("K-2", daysAgo: 10), F.complaint("K-3", daysAgo: 0.5), F.complaint("K-3", daysAgo: 0.5)])
                .isEmpty
        )
        // Complaints received after now (clock skew) wait for the next evaluation.
        #expect(fired(older + [ComplaintSignal(complaintID: "K-9", receivedAt: F.now.addingTimeInterval(60))]).isEmpty)
    }

    @Test("findings come gravest first, one per reason")
    func ordering() {
        let previous = F.healthy(tier: .gold, pAlive: 0.8, daysSinceLastOrder: 30)
        let current = F.healthy(stage: .termination, tier: .silver, pAlive: 0.1, daysSinceLastOrder: 80)
        let complaints = (1...3).map { F.complaint("K-\($0)", daysAgo: Double($0) / 10) }
        let found = trigger.findings(F.context(previous: previous, current: current, complaints: complaints))
        #expect(
            found.map(\.reason) == [
                .lifecycleTermination, .pAliveLow, .pAliveDrop, .overduePurchase, .tierDowngrade,
                .complaintValuableCustomer, .repeatedComplaints,
            ]
        )
        #expect(
            AlertReason.allCases.map(\.rawValue) == [
                "lifecycle_termination", "lifecycle_decline", "p_alive_low", "p_alive_drop", "overdue_purchase",
                "tier_downgrade", "complaint_valuable_customer", "repeated_complaints", "complaint_unresolved",
                "dissatisfied",
            ]
        )
    }

    @Test("settings decode with defaults and refuse nonsense")
    func settings() throws {
        let decoded = try JSONDecoder().decode(
            AlertSettings.self,
            from: Data(
                #"{"pAliveLow": 0.25, "eligibility": {"minimumTier": null}, "priority": {"p1Minimum": 5000}}"#.utf8
            )
        )
        #expect(decoded.pAliveLow == 0.25)
        #expect(decoded.eligibility == AlertEligibility(minimumTier: nil))
        #expect(decoded.priority == PriorityBands(p1Minimum: 5_000, p2Minimum: 200))
        #expect(decoded.overdueIntervalMultiple == 2)
        try AlertSettings().validate()
        #expect(throws: AlertRulesError.self) { try AlertSettings(pAliveLow: 0).validate() }
        #expect(throws: AlertRulesError.self) { try AlertSettings(repeatedComplaintsCount: 1).validate() }
        #expect(throws: AlertRulesError.self) {
            try AlertSettings(priority: PriorityBands(p1Minimum: 100, p2Minimum: 200)).validate()
        }
    }
}

@Suite("Alert triggers: satisfaction")
struct RulesSatisfactionTriggerTests {
    private typealias F = RulesAlertFixtures

    private func findings(_ facts: [ComplaintFact]) -> [AlertFinding] {
        var context = F.context(previous: F.healthy(), current: F.healthy())
        context.newComplaintFacts = facts
        return AlertTrigger().findings(context)
    }

    @Test("a rating of 1 or 2 is dissatisfied, with the lowest rating as evidence; 3 and above are not")
    func dissatisfied() {
        #expect(findings([ComplaintFact(complaintID: "K-1", rating: 3, at: F.daysAgo(0.1))]).isEmpty)
        let found = findings([
            ComplaintFact(complaintID: "K-1", rating: 2, at: F.daysAgo(0.2)),
            ComplaintFact(complaintID: "K-2", rating: 1, at: F.daysAgo(0.1)),
        ])
        #expect(found == [AlertFinding(reason: .dissatisfied, evidence: .ratedLow(complaintID: "K-2", rating: 1))])
    }

    @Test("a breached resolution target is complaint_unresolved, graver than dissatisfied")
    func unresolved() {
        let found = findings([
            ComplaintFact(complaintID: "K-1", rating: 1, at: F.daysAgo(0.2)),
            ComplaintFact(complaintID: "K-3", breached: .resolution, at: F.daysAgo(0.1)),
        ])
        #expect(found.map(\.reason) == [.complaintUnresolved, .dissatisfied])
        #expect(found.first?.evidence == .targetBreached(complaintID: "K-3", target: .resolution))
        #expect(findings([ComplaintFact(complaintID: "K-4", breached: .firstResponse, at: F.daysAgo(0.1))]).isEmpty)
    }

    @Test("a customer below the eligibility minimum gets no alert for a low rating")
    func eligibility() throws {
        var context = F.context(previous: F.healthy(tier: .bronze), current: F.healthy(tier: .bronze))
        context.newComplaintFacts = [ComplaintFact(complaintID: "K-1", rating: 1, at: F.daysAgo(0.1))]
        let composer = RetentionAlertComposer(playbook: try F.deployPlaybook())
        #expect(composer.compose(context) == nil)
        context.previous = F.healthy()
        context.current = F.healthy()
        #expect(composer.compose(context)?.reasons == [.dissatisfied])
    }
}
