import CRMContract
import CRMSupport
import Foundation
import Testing

@testable import Scoring

@Suite("Lifecycle stages")
struct RulesLifecycleTests {
    private let classifier = LifecycleClassifier()
    private typealias F = RulesFixtures

    /// A loyal gold customer (10 purchases about every 80 days) who lapsed 300 days ago; when
    /// `lastPurchase` is more recent, they came back then. `previousLastPurchase` is what the
    /// previous scoring saw.
    private func returningCustomer(
        previousStage: LifecycleStage,
        lastPurchase: Double = 300,
        previousLastPurchase: Double = 300,
        pAlive: Double
    ) -> CustomerFacts {
        let returned = lastPurchase < 300
        return CustomerFacts(
            asOf: F.asOf,
            orderCount: returned ? 11 : 10,
            firstOrderAt: F.daysAgo(1_020),
            lastOrderAt: F.daysAgo(lastPurchase),
            netRevenue: returned ? 1_100 : 1_000,
            recent: ActivityWindow(days: 180, purchases: returned ? 1 : 0, spend: returned ? 100 : 0),
            earlier: ActivityWindow(days: 840, purchases: 10, spend: 1_000),
            pAlive: pAlive,
            expectedIntervalDays: 80,
            valueTier: .gold,
            previous: PreviousScoring(stage: previousStage, pAlive: 0.1, lastOrderAt: F.daysAgo(previousLastPurchase))
        )
    }

    /// Realistic facts for each rule; every stage must appear at least once.
    private var scenarios: [(String, CustomerFacts, LifecycleRule)] {
        [
            ("signed up, never bought", CustomerFacts(asOf: F.asOf), .noPurchase),
            ("one purchase last month", F.oneTimeBuyer(silence: 20), .firstPurchaseOnly),
            ("two purchases, both recent", F.repeatBuyer(purchases: 2, interval: 30, silence: 10), .noTrendYet),
            ("monthly buyer, spend doubled", F.repeatBuyer(recentSpendFactor: 2), .spendRising),
            ("monthly gold buyer, steady", F.repeatBuyer(), .stableHighValue),
            ("monthly bronze buyer, steady", F.repeatBuyer(tier: .bronze), .stableBelowMaturityTier),
            ("buying half as often", F.repeatBuyer(recentPurchaseFactor: 0.5), .frequencyFalling),
            ("spending half as much", F.repeatBuyer(recentSpendFactor: 0.5), .spendFalling),
            ("model says probably slipping", F.repeatBuyer(pAlive: 0.4), .pAliveBelowDecline),
            (
                "p_alive fell 0.25 since yesterday",
                F.repeatBuyer(pAlive: 0.65, previous: PreviousScoring(stage: .maturity, pAlive: 0.9)),
                .pAliveDropped
            ),
            ("70 days silent, buys monthly", F.repeatBuyer(silence: 70, pAlive: nil), .overdueBeyondDecline),
            ("one purchase 400 days ago", F.oneTimeBuyer(silence: 400), .silentBeyondDeclineLimit),
            ("model says gone", F.repeatBuyer(silence: 150, pAlive: 0.1), .pAliveBelowTermination),
            ("130 days silent, buys monthly", F.repeatBuyer(silence: 130, pAlive: nil), .overdueBeyondTermination),
            ("one purchase 800 days ago", F.oneTimeBuyer(silence: 800), .silentBeyondTerminationLimit),
            (
                "terminated, no purchase since, refit lifted p_alive",
                returningCustomer(previousStage: .termination, pAlive: 0.6),
                .terminationHeld
            ),
            (
                "terminated, bought 5 days ago",
                returningCustomer(previousStage: .termination, lastPurchase: 5, pAlive: 0.8),
                .purchaseAfterTermination
            ),
            (
                "recovered 20 days ago, no purchase since",
                returningCustomer(previousStage: .recovery, lastPurchase: 20, previousLastPurchase: 20, pAlive: 0.8),
                .recoveryHeld
            ),
        ]
    }

    @Test("each scenario fires its rule, and every stage is reached")
    func scenariosAndCoverage() {
        for (name, facts, expected) in scenarios {
            #expect(classifier.rule(for: facts) == expected, "\(name)")
        }
        #expect(Set(scenarios.map { $0.2.stage }) == Set(LifecycleStage.allCases))
    }

    @Test("termination beats decline when both hold")
    func terminationBeatsDecline() {
        // Falling frequency, overdue for decline and p_alive below both thresholds.
        let facts = F.repeatBuyer(silence: 100, recentPurchaseFactor: 0.3, pAlive: 0.15)
        #expect(classifier.classify(facts).stage == .termination)
        #expect(classifier.rule(for: facts) == .pAliveBelowTermination)
    }

    @Test("recovery needs termination first; a return purchase beats the trend it distorts")
    func recoveryOrder() {
        // The same purchase pattern without a previous termination is a falling trend.
        var facts = returningCustomer(previousStage: .termination, lastPurchase: 5, pAlive: 0.8)
        #expect(classifier.rule(for: facts) == .purchaseAfterTermination)
        facts.previous = PreviousScoring(stage: .decline, pAlive: 0.3, lastOrderAt: F.daysAgo(300))
        #expect(classifier.rule(for: facts) == .frequencyFalling)
    }

    @Test("a held recovery yields to decline and termination signals")
    func recoveryHeldYields() {
        let slipping = returningCustomer(
            previousStage: .recovery,
            lastPurchase: 20,
            previousLastPurchase: 20,
            pAlive: 0.45
        )
        #expect(classifier.rule(for: slipping) == .pAliveBelowDecline)
        let lost = returningCustomer(previousStage: .recovery, lastPurchase: 20, previousLastPurchase: 20, pAlive: 0.1)
        #expect(classifier.rule(for: lost) == .pAliveBelowTermination)
    }

    @Test("p_alive thresholds are strict: on the boundary the rule does not fire")
    func pAliveBoundaries() {
        #expect(classifier.rule(for: F.repeatBuyer(pAlive: 0.2)) == .pAliveBelowDecline)
        #expect(classifier.rule(for: F.repeatBuyer(pAlive: 0.19)) == .pAliveBelowTermination)
        #expect(classifier.rule(for: F.repeatBuyer(pAlive: 0.5)) == .stableHighValue)
        let onBoundary = F.repeatBuyer(pAlive: 0.6, previous: PreviousScoring(stage: .maturity, pAlive: 0.8))
        #expect(classifier.rule(for: onBoundary) == .stableHighValue)
        let beyond = F.repeatBuyer(pAlive: 0.59, previous: PreviousScoring(stage: .maturity, pAlive: 0.8))
        #expect(classifier.rule(for: beyond) == .pAliveDropped)
    }

    @Test("own-interval rules: strict multiple, minimum silence, minimum repeats")
    func intervalGuards() {
        #expect(classifier.rule(for: F.repeatBuyer(silence: 60, pAlive: nil)) == .stableHighValue)
        #expect(classifier.rule(for: F.repeatBuyer(silence: 120, pAlive: nil)) == .overdueBeyondDecline)
        // A daily buyer silent ten days is not lost: the rule needs 30 silent days.
        let daily = F.repeatBuyer(purchases: 20, interval: 1, silence: 10, pAlive: nil)
        #expect(classifier.classify(daily).stage == .growth)
        // One gap is an anecdote: two purchases 10 days apart, silent 45 days, stays in growth.
        let oneGap = F.repeatBuyer(purchases: 2, interval: 10, silence: 45, pAlive: nil)
        #expect(classifier.classify(oneGap).stage == .growth)
    }

    @Test("the recent window stretches to hold two of the customer's own intervals")
    func recentWindow() {
        let settings = LifecycleSettings()
        #expect(settings.recentWindowDays(expectedIntervalDays: nil) == 180)
        #expect(settings.recentWindowDays(expectedIntervalDays: 30) == 180)
        #expect(settings.recentWindowDays(expectedIntervalDays: 200) == 400)
        // A twice-a-year buyer on schedule is not "falling" for an empty half-year.
        let seasonal = F.repeatBuyer(purchases: 8, interval: 180, silence: 90, pAlive: nil)
        #expect(classifier.classify(seasonal).stage == .maturity)
    }

    @Test("every rule belongs to exactly the stage its identifier names")
    func ruleIdentifiers() {
        for rule in LifecycleRule.allCases {
            #expect(rule.rawValue.hasPrefix(rule.stage.rawValue + "."), "\(rule)")
        }
        #expect(
            LifecycleStage.allCases.map(\.rawValue) == [
                "potential", "development", "growth", "maturity", "decline", "termination", "recovery",
            ]
        )
    }

    @Test("settings decode with defaults, and contradictions are refused")
    func settings() throws {
        let decoded = try JSONDecoder().decode(LifecycleSettings.self, from: Data(#"{"declinePAlive": 0.6}"#.utf8))
        #expect(decoded == LifecycleSettings(declinePAlive: 0.6))
        try LifecycleSettings().validate()
        #expect(throws: ScoringRulesError.self) { try LifecycleSettings(terminationPAlive: 0.6).validate() }
        #expect(throws: ScoringRulesError.self) { try LifecycleSettings(trendRatio: 1).validate() }
        #expect(throws: ScoringRulesError.self) {
            try LifecycleSettings(declineSilenceDays: 900, terminationSilenceDays: 700).validate()
        }
    }
}
