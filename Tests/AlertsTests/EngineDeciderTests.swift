import CRMContract
import CRMSupport
import Foundation
import Testing

@testable import Alerts

private typealias F = RulesAlertFixtures

/// The decision of one evaluation, without a database: which figures are current, what is held back and why.
@Suite("Alert decider")
struct EngineDeciderTests {
    let decider: AlertDecider

    init() throws {
        decider = AlertDecider(composer: RetentionAlertComposer(playbook: try F.deployPlaybook()))
    }

    static func figures(_ snapshot: ScoreSnapshot) -> ScoredFigures {
        ScoredFigures(
            snapshot: snapshot,
            customer: CustomerValueSnapshot(tier: snapshot.tier, lifecycleStage: snapshot.stage),
            lastOrderAt: nil
        )
    }

    static let healthy = figures(F.healthy(scoredAt: F.daysAgo(2)))
    static let declined = figures(F.healthy(stage: .decline, scoredAt: F.daysAgo(1)))

    @Test func newerFiguresAreEvaluatedAndOlderOrEqualOnesAreNoChange() throws {
        var customer = CustomerCase(customerID: "C-1", stored: (Self.healthy, F.daysAgo(2)), event: Self.declined)
        let evaluation = try #require(decider.decide(customer, now: F.now))
        #expect(evaluation.alert?.content.reasons == [.lifecycleDecline])
        #expect(evaluation.current == Self.declined)

        // The same scoring again, or an older one: nothing to evaluate.
        customer.stored = (Self.declined, F.daysAgo(1))
        #expect(decider.decide(customer, now: F.now) == nil)
        customer.event = Self.healthy
        #expect(decider.decide(customer, now: F.now) == nil)
    }

    @Test func theNewestOfEventAndStoredScoreCountsAndATieGoesToTheEvent() throws {
        var fromEvent = Self.declined
        fromEvent.customer.clv = try Money("123.45")
        var fromRow = Self.declined
        fromRow.customer.clv = try Money("999.00")
        let tie = CustomerCase(
            customerID: "C-1",
            stored: (Self.healthy, F.daysAgo(2)),
            event: fromEvent,
            scored: fromRow
        )
        #expect(decider.decide(tie, now: F.now)?.current.customer.clv == fromEvent.customer.clv)

        var later = fromRow
        later.snapshot.scoredAt = F.daysAgo(0.5)
        let newer = CustomerCase(
            customerID: "C-1",
            stored: (Self.healthy, F.daysAgo(2)),
            event: fromEvent,
            scored: later
        )
        #expect(decider.decide(newer, now: F.now)?.current == later)
    }

    @Test func openAndCoolingReasonsAreHeldBackAndCounted() throws {
        var customer = CustomerCase(
            customerID: "C-1",
            stored: (Self.healthy, F.daysAgo(2)),
            event: Self.figures(F.healthy(stage: .decline, pAlive: 0.2, scoredAt: F.daysAgo(1)))
        )
        customer.openReasons = [.lifecycleDecline]
        customer.coolingReasons = [.pAliveLow]
        let evaluation = try #require(decider.decide(customer, now: F.now))
        #expect(evaluation.alert?.content.reasons == [.pAliveDrop])
        #expect(evaluation.suppressed == [.open: 1, .cooldown: 1])

        customer.openReasons = [.lifecycleDecline, .pAliveDrop]
        let silenced = try #require(decider.decide(customer, now: F.now))
        #expect(silenced.alert == nil)
        #expect(silenced.current.snapshot.stage == .decline)
    }

    @Test func aNewComplaintIsEvaluatedAgainstUnchangedFigures() throws {
        var customer = CustomerCase(customerID: "C-1", stored: (Self.healthy, F.daysAgo(2)))
        #expect(decider.decide(customer, now: F.now) == nil)
        customer.complaints = [F.complaint("K-1", daysAgo: 3)]
        customer.newComplaintIDs = ["K-1"]
        let evaluation = try #require(decider.decide(customer, now: F.now))
        #expect(evaluation.alert?.content.reasons == [.complaintValuableCustomer])
        #expect(evaluation.current == Self.healthy)
    }

    @Test func aFirstEvaluationComparesWithThePreviousStageAndTierTheEventNames() throws {
        let downgraded = Self.figures(F.healthy(tier: .silver, scoredAt: F.daysAgo(1)))
        var customer = CustomerCase(customerID: "C-1", event: downgraded)
        #expect(decider.decide(customer, now: F.now)?.alert == nil)
        customer.eventPrevious = ScoreSnapshot(scoredAt: .distantPast, stage: .maturity, tier: .gold)
        let evaluation = try #require(decider.decide(customer, now: F.now))
        #expect(evaluation.alert?.content.reasons == [.tierDowngrade])
        #expect(evaluation.alert?.content.suggestedAction == "account_manager_check_in")
    }

    @Test func theAlertBodyIsAValidRetentionAlertWithEvidence() throws {
        let customer = CustomerCase(customerID: "C-1", stored: (Self.healthy, F.daysAgo(2)), event: Self.declined)
        let alert = try #require(decider.decide(customer, now: F.now)?.alert)
        let message = try RetentionAlert.decode(body: alert.body)
        #expect(message.alertID.rawValue == alert.alertID.uuidString.lowercased())
        #expect(message.reasons == [.lifecycleDecline])
        #expect(message.raisedAt.date == F.now)
        let json = try #require(try JSONSerialization.jsonObject(with: alert.body) as? [String: Any])
        let evidence = try #require(json["evidence"] as? [[String: Any]])
        #expect(evidence.count == 1)
        #expect(evidence[0]["reason"] as? String == "lifecycle_decline")
        #expect(evidence[0]["from_stage"] as? String == "maturity")
        #expect(evidence[0]["to_stage"] as? String == "decline")
    }

    @Test func aFlaggedCustomerGetsNoAlertAndTheFlagIsNamed() throws {
        var customer = CustomerCase(customerID: "C-1", stored: (Self.healthy, F.daysAgo(2)), event: Self.declined)
        for flag in CustomerFlag.allCases {
            customer.flags = [flag]
            let evaluation = try #require(decider.decide(customer, now: F.now))
            #expect(evaluation.alert == nil && evaluation.suppressedBy == flag)
            // The figures still advance, so the next evaluation compares against them.
            #expect(evaluation.current == Self.declined)
        }
        customer.flags = [.doNotRetain, .fraud]
        #expect(decider.decide(customer, now: F.now)?.suppressedBy == .fraud)
        customer.flags = []
        let alerted = try #require(decider.decide(customer, now: F.now))
        #expect(alerted.alert != nil && alerted.suppressedBy == nil)
    }

    @Test func theGroupComesFromTheCustomerIDAndTheAlertCarriesItsAsOf() throws {
        let control = AlertDecider(
            composer: RetentionAlertComposer(playbook: try F.deployPlaybook()),
            control: ControlGroup(share: 0.5)
        )
        var groups: [AlertGroup: Int] = [:]
        for index in 0..<200 {
            let id = "C-\(index)"
            let customer = CustomerCase(customerID: id, stored: (Self.healthy, F.daysAgo(2)), event: Self.declined)
            let alert = try #require(control.decide(customer, now: F.now)?.alert)
            #expect(alert.group == ControlGroup(share: 0.5).group(of: id))
            #expect(alert.asOf == Self.declined.scoredAt)
            let message = try RetentionAlert.decode(body: alert.body)
            #expect(message.asOf?.date == Timestamp(Self.declined.scoredAt).date)
            groups[alert.group, default: 0] += 1
        }
        #expect((groups[.control] ?? 0) > 70 && (groups[.alerted] ?? 0) > 70)
    }
}
