import CRMContract
import Foundation
import Testing

@testable import Alerts

@Suite("Value at risk and priority")
struct RulesValueAtRiskTests {
    @Test("retained value: predicted ÷ p_alive × (1 − p_alive)")
    func retainedValue() {
        let measure = ValueAtRisk()
        #expect(measure.amount(predictedValue: 300, pAlive: 0.25) == 900)
        #expect(measure.amount(predictedValue: 300, pAlive: 1) == 0)
        // Below the 0.05 floor the division is capped: 10 ÷ 0.05 × 0.99.
        #expect(abs(measure.amount(predictedValue: 10, pAlive: 0.01) - 198) < 1e-9)
    }

    @Test("the plain formula is available: predicted × (1 − p_alive)")
    func plainFormula() {
        let measure = ValueAtRisk(method: .predictedTimesChurn)
        #expect(measure.amount(predictedValue: 300, pAlive: 0.25) == 225)
    }

    @Test("for a customer worth the same if retained, lower p_alive means more at risk")
    func monotone() {
        // The model's prediction is value-if-alive × p_alive; with value-if-alive fixed at 1000:
        let amounts = [0.9, 0.7, 0.5, 0.3, 0.1, 0.05].map {
            ValueAtRisk().amount(predictedValue: 1_000 * $0, pAlive: $0)
        }
        #expect(zip(amounts, amounts.dropFirst()).allSatisfy { $0 < $1 })
        let plain = [0.9, 0.5, 0.1].map {
            ValueAtRisk(method: .predictedTimesChurn).amount(predictedValue: 1_000 * $0, pAlive: $0)
        }
        #expect(plain[1] > plain[2], "the plain formula shrinks for the customers most surely lost")
    }

    @Test("unknown inputs and negative values give zero, never a negative amount")
    func degenerate() {
        let measure = ValueAtRisk()
        #expect(measure.amount(predictedValue: nil, pAlive: 0.2) == 0)
        #expect(measure.amount(predictedValue: 500, pAlive: nil) == 0)
        #expect(measure.amount(predictedValue: -40, pAlive: 0.2) == 0)
        #expect(measure.amount(predictedValue: 100, pAlive: 1.4) == 0)
    }

    @Test(
        "bands map value at risk to p1..p3, minimums inclusive",
        arguments: [
            (5_000.0, AlertPriority.p1), (1_000, .p1), (999.99, .p2), (200, .p2), (199.99, .p3), (0, .p3),
        ]
    )
    func bands(valueAtRisk: Double, priority: AlertPriority) {
        #expect(PriorityBands().priority(forValueAtRisk: valueAtRisk) == priority)
    }

    @Test("priorities route to retention.p1..p3")
    func routingKeys() {
        #expect(AlertPriority.allCases.map(\.routingKey) == ["retention.p1", "retention.p2", "retention.p3"])
    }

    @Test("settings validate the floor")
    func settings() throws {
        try ValueAtRisk().validate()
        #expect(throws: AlertRulesError.self) { try ValueAtRisk(pAliveFloor: 0).validate() }
    }
}
