import CRMSupport
import Foundation
import Testing

@testable import Scoring

@Suite("Simple lifetime value")
struct RulesSimpleLifetimeValueTests {
    @Test("worked example: 150 a purchase × 2 a year × 3 years = 900")
    func workedExample() {
        let clv = SimpleLifetimeValue(
            netValue: 600,
            purchaseCount: 4,
            firstPurchaseAt: RulesFixtures.daysAgo(730),
            asOf: RulesFixtures.asOf
        )
        #expect(clv.historical == 600)
        #expect(clv.averagePerPurchase == 150)
        #expect(abs(clv.purchasesPerYear - 2) < 1e-12)
        #expect(clv.remainingYears == 3)
        #expect(abs(clv.value - 900) < 1e-9)
    }

    @Test("a week-old customer is observed for the minimum window, not extrapolated to 52 purchases a year")
    func minimumWindow() {
        let clv = SimpleLifetimeValue(
            netValue: 100,
            purchaseCount: 1,
            firstPurchaseAt: RulesFixtures.daysAgo(7),
            asOf: RulesFixtures.asOf
        )
        #expect(abs(clv.purchasesPerYear - 1) < 1e-12)
        #expect(abs(clv.value - 300) < 1e-9)

        let shortWindow = SimpleLifetimeValueSettings(expectedLifetimeYears: 2, minimumObservationDays: 73)
        let eager = SimpleLifetimeValue(
            netValue: 100,
            purchaseCount: 1,
            firstPurchaseAt: RulesFixtures.daysAgo(7),
            asOf: RulesFixtures.asOf,
            settings: shortWindow
        )
        #expect(abs(eager.value - 100 * 5 * 2) < 1e-9)
    }

    @Test("no purchases, no value; negative margin projects negative value")
    func edges() {
        let none = SimpleLifetimeValue(netValue: 0, purchaseCount: 0, firstPurchaseAt: nil, asOf: RulesFixtures.asOf)
        #expect(none.value == 0)
        let loss = SimpleLifetimeValue(
            netValue: -50,
            purchaseCount: 5,
            firstPurchaseAt: RulesFixtures.daysAgo(365),
            asOf: RulesFixtures.asOf
        )
        #expect(loss.value < 0)
    }

    @Test("margin replaces revenue where cost is known")
    func marginBasis() {
        var facts = CustomerFacts(asOf: RulesFixtures.asOf, orderCount: 2, netRevenue: 500)
        #expect(facts.historicalValue == 500)
        #expect(facts.marginRate == nil)
        facts.netMargin = 150
        #expect(facts.historicalValue == 150)
        #expect(facts.marginRate == 0.3)
    }

    @Test("settings decode with defaults for missing keys and validate")
    func settings() throws {
        let decoded = try JSONDecoder().decode(
            SimpleLifetimeValueSettings.self,
            from: Data(#"{"expectedLifetimeYears": 5}"#.utf8)
        )
        #expect(decoded == SimpleLifetimeValueSettings(expectedLifetimeYears: 5, minimumObservationDays: 365))
        #expect(throws: ScoringRulesError.self) {
            try SimpleLifetimeValueSettings(expectedLifetimeYears: -1).validate()
        }
    }
}
