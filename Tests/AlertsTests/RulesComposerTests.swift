import CRMContract
import Foundation
import Testing

@testable import Alerts

@Suite("Retention alert content")
struct RulesComposerTests {
    private typealias F = RulesAlertFixtures

    private func composer(_ settings: AlertSettings = AlertSettings()) throws -> RetentionAlertComposer {
        RetentionAlertComposer(settings: settings, playbook: try F.deployPlaybook())
    }

    @Test("a gold customer slipping into decline, overdue: reasons, value at risk, p1, playbook action")
    func slippingGoldCustomer() throws {
        let previous = F.healthy(pAlive: 0.7, daysSinceLastOrder: 30)
        let current = F.healthy(stage: .decline, pAlive: 0.6, predictedValue: 2_280, daysSinceLastOrder: 75)
        let content = try #require(try composer().compose(F.context(previous: previous, current: current)))
        #expect(content.reasons == [.lifecycleDecline, .overduePurchase])
        #expect(abs(content.valueAtRisk - 1_520) < 1e-9)  // 2280 ÷ 0.6 × 0.4
        #expect(content.priority == .p1)
        #expect(content.suggestedAction == "account_manager_call")
    }

    @Test("low-value customers get no alerts, however clear the risk")
    func lowValueIgnored() throws {
        let previous = F.healthy(tier: .bronze, pAlive: 0.8)
        let current = F.healthy(stage: .termination, tier: .bronze, pAlive: 0.05)
        #expect(try composer().compose(F.context(previous: previous, current: current)) == nil)
        // Silver is below the default minimum (gold), and alerted once the minimum is lowered to it.
        let silverContext = F.context(
            previous: F.healthy(tier: .silver, pAlive: 0.8),
            current: F.healthy(stage: .termination, tier: .silver, pAlive: 0.05)
        )
        #expect(try composer().compose(silverContext) == nil)
        let toSilver = AlertSettings(eligibility: AlertEligibility(minimumTier: .silver))
        #expect(try composer(toSilver).compose(silverContext)?.reasons.first == .lifecycleTermination)
    }

    @Test("a minimum predicted value can replace the tier minimum; the boundary is inclusive")
    func predictedMinimum() throws {
        let settings = AlertSettings(eligibility: AlertEligibility(minimumTier: nil, minimumPredictedValue: 500))
        func compose(predicted: Double) throws -> RetentionAlertContent? {
            let previous = F.healthy(tier: .bronze, predictedValue: predicted)
            let current = F.healthy(stage: .decline, tier: .bronze, predictedValue: predicted)
            return try composer(settings).compose(F.context(previous: previous, current: current))
        }
        #expect(try compose(predicted: 500) != nil)
        #expect(try compose(predicted: 499.99) == nil)
    }

    @Test("a gold customer downgraded to bronze is still eligible and treated as gold")
    func downgradeStaysEligible() throws {
        let previous = F.healthy(tier: .gold, pAlive: 0.6)
        let current = F.healthy(stage: .decline, tier: .bronze, pAlive: 0.45, predictedValue: 90)
        let content = try #require(try composer().compose(F.context(previous: previous, current: current)))
        #expect(content.reasons == [.lifecycleDecline, .tierDowngrade])
        #expect(content.standingTier == .gold)
        #expect(content.suggestedAction == "account_manager_call")
        #expect(content.priority == .p3)  // 90 ÷ 0.45 × 0.55 = 110
    }

    @Test("reasons already open are not raised again; nothing new means no alert")
    func openReasons() throws {
        let context = F.context(previous: F.healthy(pAlive: 0.5), current: F.healthy(stage: .decline, pAlive: 0.25))
        let all = try #require(try composer().compose(context))
        #expect(all.reasons == [.lifecycleDecline, .pAliveLow, .pAliveDrop])
        let rest = try composer().compose(context, openReasons: [.lifecycleDecline])
        #expect(rest?.reasons == [.pAliveLow, .pAliveDrop])
        #expect(try composer().compose(context, openReasons: Set(AlertReason.allCases)) == nil)
    }

    @Test("the scoring vocabulary matches the public strings")
    func vocabulary() {
        #expect(
            LifecycleStage.allCases.map(\.rawValue) == [
                "potential", "development", "growth", "maturity", "decline", "termination", "recovery",
            ]
        )
        #expect(ValueTier.allCases.sorted().map(\.rawValue) == ["bronze", "silver", "gold"])
    }
}
