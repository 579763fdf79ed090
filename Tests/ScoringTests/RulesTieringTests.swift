import CRMContract
import CRMSupport
import Foundation
import Testing

@testable import Scoring

@Suite("Value tiers")
struct RulesTieringTests {
    private func figures(_ values: [Double]) -> [CLVFigures] {
        values.map { CLVFigures(historical: $0, simple: $0, predicted: $0) }
    }

    private func tierCounts(_ values: [Double], settings: TieringSettings = TieringSettings()) -> [ValueTier: Int] {
        let base = figures(values)
        let tiering = ValueTiering(base: base, settings: settings)
        return base.reduce(into: [:]) { counts, customer in counts[tiering.tier(for: customer), default: 0] += 1 }
    }

    @Test("exactly the top 20 % by value are gold, the next 30 % silver")
    func cutoffsOnKnownDistribution() throws {
        let values = (1...100).map(Double.init)
        let tiering = ValueTiering(base: figures(values))
        #expect(tiering.cutoffs.gold == 80)
        #expect(tiering.cutoffs.silver == 50)
        let gold = values.filter { tiering.tier(for: CLVFigures(historical: 0, simple: 0, predicted: $0)) == .gold }
        #expect(gold == (81...100).map(Double.init))
        #expect(tierCounts(values) == [.gold: 20, .silver: 30, .bronze: 50])
    }

    @Test("the split follows the settings")
    func customShares() {
        let settings = TieringSettings(goldShare: 0.1, silverShare: 0.4)
        #expect(tierCounts((1...50).map(Double.init), settings: settings) == [.gold: 5, .silver: 20, .bronze: 25])
    }

    @Test("customers without positive value are bronze and do not dilute the shares")
    func nonBuyersDoNotDilute() {
        let values = (1...100).map(Double.init) + Array(repeating: 0, count: 100) + [-25]
        #expect(tierCounts(values) == [.gold: 20, .silver: 30, .bronze: 151])
    }

    @Test("a tie straddling the gold cut-off stays together below it")
    func tiesAtCutoff() {
        // The three 9s hold ranks 8–10, but only 70 % of the base is strictly below them: silver, all three.
        let values = (1...7).map(Double.init) + [9, 9, 9]
        #expect(tierCounts(values) == [.silver: 5, .bronze: 5])
    }

    @Test("the predicted basis falls back to historical value where there is no prediction")
    func predictedFallback() {
        let customer = CLVFigures(historical: 120, simple: 300, predicted: nil)
        #expect(customer.value(for: .predicted) == (120, .historical))
        #expect(customer.value(for: .simple) == (300, .simple))
        let modelled = CLVFigures(historical: 120, simple: 300, predicted: 90)
        #expect(modelled.value(for: .predicted) == (90, .predicted))
    }

    @Test("an empty base makes everyone bronze")
    func emptyBase() {
        let tiering = ValueTiering(base: [CLVFigures]())
        #expect(tiering.cutoffs.gold == nil)
        #expect(tiering.tier(for: CLVFigures(historical: 1e6, simple: 1e6, predicted: 1e6)) == .bronze)
    }

    @Test("cut-offs survive storage; corrupt ones are refused")
    func storage() throws {
        let cutoffs = TierCutoffs(base: figures((1...10).map(Double.init)))
        let stored = try JSONEncoder().encode(cutoffs)
        #expect(try JSONDecoder().decode(TierCutoffs.self, from: stored) == cutoffs)
        let silverAboveGold = Data(#"{"valueBasis":"predicted","gold":10,"silver":20,"baseSize":5}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(TierCutoffs.self, from: silverAboveGold) }
    }

    @Test("settings validate the shares and margin thresholds")
    func settings() throws {
        try TieringSettings().validate()
        #expect(throws: ScoringRulesError.self) { try TieringSettings(goldShare: 0.5, silverShare: 0.5).validate() }
        #expect(throws: ScoringRulesError.self) { try TieringSettings(goldShare: 0).validate() }
        #expect(throws: ScoringRulesError.self) {
            try TieringSettings(highMarginRate: 0.1, lowMarginRate: 0.2).validate()
        }
        let decoded = try JSONDecoder().decode(TieringSettings.self, from: Data(#"{"valueBasis":"historical"}"#.utf8))
        #expect(decoded == TieringSettings(valueBasis: .historical))
    }

    @Test("tier order and public names")
    func tierVocabulary() {
        #expect(ValueTier.bronze < .silver && ValueTier.silver < .gold)
        #expect(ValueTier.allCases.map(\.rawValue) == ["bronze", "silver", "gold"])
    }
}
