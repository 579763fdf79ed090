import CRMContract
import Foundation
import Testing

@testable import Scoring

@Suite("Base report gathered from scores")
struct EngineBaseReportTests {
    static let asOf = Date(timeIntervalSince1970: 1_000_000_000)

    /// A scored customer with `orders` purchase orders (as many purchase days), values, tier, stage and cell.
    static func score(
        _ id: String,
        orders: Int,
        historical: Double,
        predicted: Double?,
        expected: Double?,
        tier: ValueTier,
        rule: LifecycleRule,
        cell: NineGridCell?
    ) -> CustomerScore {
        var activity = CustomerActivity()
        activity.orderCount = orders
        activity.transactions = orders
        activity.netValue = historical
        if orders > 0 {
            activity.summary = TransactionSummary(frequency: orders - 1, recency: 10, age: 20, monetaryValue: 25)
        }
        return CustomerScore(
            customerID: id,
            modelID: 1,
            scoredAt: asOf,
            activity: activity,
            recencyDays: orders > 0 ? 3 : nil,
            rfm: nil,
            clv: CLVFigures(historical: historical, simple: historical, predicted: predicted),
            pAlive: orders > 0 ? 0.5 : nil,
            expectedPurchases90d: expected,
            lifecycle: rule,
            tier: tier,
            grid: cell
        )
    }

    @Test("counts, value, forecast, cells and the moves since the previous full rescoring")
    func gathered() throws {
        let spend = GammaGamma(p: 6, q: 4, v: 15)
        var builder = BaseReportBuilder(asOf: Self.asOf, previousAsOf: Self.asOf - 86_400, spend: spend)
        let highMid = NineGridCell(value: .high, second: .mid, axis: .growth)
        let lowLow = NineGridCell(value: .low, second: .low, axis: .growth)
        // Two gold now: A was silver (entered), B stays; C was gold and left; D is new; E never bought.
        builder.add(
            Self.score(
                "A",
                orders: 3,
                historical: 300,
                predicted: 120,
                expected: 0.5,
                tier: .gold,
                rule: .spendRising,
                cell: highMid
            ),
            rescored: (.silver, .growth)
        )
        builder.add(
            Self.score(
                "B",
                orders: 5,
                historical: 500,
                predicted: 200,
                expected: 1.5,
                tier: .gold,
                rule: .stableHighValue,
                cell: highMid
            ),
            rescored: (.gold, .maturity)
        )
        builder.add(
            Self.score(
                "C",
                orders: 1,
                historical: 50,
                predicted: 10,
                expected: 0.1,
                tier: .bronze,
                rule: .pAliveBelowDecline,
                cell: lowLow
            ),
            rescored: (.gold, .growth)
        )
        builder.add(
            Self.score(
                "D",
                orders: 1,
                historical: 20,
                predicted: 8,
                expected: 0.2,
                tier: .bronze,
                rule: .firstPurchaseOnly,
                cell: lowLow
            ),
            rescored: nil
        )
        builder.add(
            Self.score(
                "E",
                orders: 0,
                historical: 0,
                predicted: nil,
                expected: nil,
                tier: .bronze,
                rule: .noPurchase,
                cell: nil
            ),
            rescored: (.bronze, .potential)
        )
        let report = builder.finish(modelID: 7)
        #expect(report.customers == 4 && report.scored == 5 && report.repeatCustomers == 2)
        #expect(report.repeatRate == 0.5)
        #expect(report.value.historicalTotal == "870.00" && report.value.predictedTotal == "338.00")
        // ⌈0.2 × 4⌉ = 1 customer: B's 500 of 870.
        #expect(abs(report.value.top20Share - 500.0 / 870.0) < 1e-12)
        let forecast = try #require(report.forecast90d)
        #expect(abs(forecast.transactions - 2.3) < 1e-12)
        let expectedRevenue = [(0.5, 2), (1.5, 4), (0.1, 0), (0.2, 0)].reduce(0.0) {
            $0 + $1.0 * spend.conditionalExpectedAverageSpend(x: $1.1, monetary: 25)
        }
        #expect(forecast.revenue == String(format: "%.2f", expectedRevenue))
        #expect(report.stages["growth"] == 1 && report.stages["potential"] == 1 && report.stages.count == 7)
        #expect(report.tiers == ["gold": 2, "silver": 0, "bronze": 3])
        #expect(report.grid.count == 9)
        #expect(
            report.grid["high-mid"]
                == BaseReport.GridCell(
                    customers: 2,
                    historicalTotal: "800.00",
                    predictedTotal: "320.00",
                    strategy: "maintain"
                )
        )
        #expect(report.grid["low-low"]?.strategy == "exit" && report.grid["mid-mid"]?.customers == 0)

        let moves = try #require(report.transitions)
        #expect(
            moves.tiers == [
                "silver": ["gold": 1], "gold": ["gold": 1, "bronze": 1], "new": ["bronze": 1],
                "bronze": ["bronze": 1],
            ]
        )
        #expect(moves.stages["new"] == ["development": 1])
        #expect(moves.goldEntered == 1 && moves.goldLeft == 1)
        #expect(moves.goldEntrants.map(\.customerID) == ["A"])
        #expect(
            moves.goldLeavers.first?.previousTier == "gold"
                && moves.goldLeavers.first?.lifecycleRule == "decline.p_alive_low"
        )
        let json = try report.json()
        #expect(json.contains(#""forecast_90d":{"revenue":"#) && json.contains(#""top_20_share":"#))
    }

    @Test("the first report has no transitions, written as null; the most valuable movers come first, at most 20")
    func firstReportAndMovers() throws {
        var first = BaseReportBuilder(asOf: Self.asOf, previousAsOf: nil, spend: nil)
        first.add(
            Self.score(
                "A",
                orders: 1,
                historical: 10,
                predicted: nil,
                expected: nil,
                tier: .gold,
                rule: .firstPurchaseOnly,
                cell: nil
            ),
            rescored: nil
        )
        let report = first.finish(modelID: nil)
        #expect(report.transitions == nil && report.forecast90d == nil && report.value.predictedTotal == nil)
        let json = try report.json()
        #expect(json.contains(#""transitions":null"#) && json.contains(#""forecast_90d":null"#))
        #expect(try JSONDecoder().decode(BaseReport.self, from: Data(json.utf8)) == report)

        var many = BaseReportBuilder(asOf: Self.asOf, previousAsOf: Self.asOf, spend: nil)
        for index in 0..<50 {
            many.add(
                Self.score(
                    "G\(index)",
                    orders: 2,
                    historical: 10,
                    predicted: Double(index % 25),
                    expected: nil,
                    tier: .gold,
                    rule: .noTrendYet,
                    cell: nil
                ),
                rescored: (.silver, .growth)
            )
        }
        let entrants = try #require(many.finish(modelID: nil).transitions?.goldEntrants)
        #expect(entrants.count == BaseReportBuilder.moversShown)
        #expect(entrants.prefix(4).map(\.customerID) == ["G24", "G49", "G23", "G48"])
    }
}
