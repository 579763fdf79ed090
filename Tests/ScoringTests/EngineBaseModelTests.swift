import CRMSupport
import Foundation
import Scoring
import Testing

/// The model of a base held in memory: activities folded by `ActivityBuilder`, then `FullRescoring`'s fit,
/// predictions and calibration, without a database.
@Suite struct EngineBaseModelTests {
    static let settings = ScoringConfiguration()

    /// 1997-09-30, the end of CDNOW's calibration period, at its last instant.
    static let calibrationEnd = Date(timeIntervalSince1970: Double(CDNOW.calibrationEnd + 1) * 86_400 - 0.001)

    /// The sample's activities as of `calibrationEnd`, each purchase at noon of its day.
    static func sampleActivities() throws -> [CustomerActivity] {
        var builder = ActivityBuilder(asOf: calibrationEnd, settings: settings)
        return try CDNOW.samplePurchases().map { purchases in
            for purchase in purchases where purchase.day <= CDNOW.calibrationEnd {
                builder.add(
                    time: Double(purchase.day) * 86_400 + 43_200,
                    isPurchase: true,
                    amount: purchase.amount,
                    cost: nil
                )
            }
            return builder.finish()
        }
    }

    @Test("orders in any order fold into the activity of the same orders in time order")
    func orderDoesNotMatter() {
        let asOf = Date(timeIntervalSince1970: 100 * 86_400)
        let day = 86_400.0
        // (time, purchase, amount, cost): two orders on day 10, a refund on day 40, a costed purchase on day 70.
        let orders: [(Double, Bool, Double, Double?)] = [
            (10 * day + 3_600, true, 30, nil), (10 * day + 7_200, true, 20, nil), (25 * day, true, 15, nil),
            (40 * day, false, 5, nil), (70 * day, true, 50, 20), (99 * day, true, 10, nil),
        ]
        var builder = ActivityBuilder(asOf: asOf, settings: Self.settings)
        for order in orders { builder.add(time: order.0, isPurchase: order.1, amount: order.2, cost: order.3) }
        let inOrder = builder.finish()
        #expect(inOrder.orderCount == 5)
        #expect(inOrder.transactions == 4)  // the two orders of day 10 are one transaction
        #expect(inOrder.netRevenue == 120)
        #expect(inOrder.summary?.frequency == 3)

        for permutation in [[5, 4, 3, 2, 1, 0], [1, 0, 3, 2, 5, 4], [4, 0, 5, 1, 3, 2]] {
            for index in permutation {
                let order = orders[index]
                builder.add(time: order.0, isPurchase: order.1, amount: order.2, cost: order.3)
            }
            #expect(builder.finish() == inOrder, "\(permutation)")
        }
        #expect(builder.finish() == .none)
    }

    @Test("the CDNOW sample in memory gives the published estimates, and bulk predictions equal one by one")
    func cdnowSampleInMemory() throws {
        let activities = try Self.sampleActivities()
        #expect(activities.count == 2357)
        var model = try FullRescoring.fit(activities, settings: Self.settings, asOf: Self.calibrationEnd)
        let bgnbd = try #require(model.bgnbd?.parameters)
        #expect(abs(bgnbd.r - 0.243) < 0.0005)
        #expect(abs(bgnbd.alpha - 4.414) < 0.005)
        #expect(abs(bgnbd.a - 0.793) < 0.0005)
        #expect(abs(bgnbd.b - 2.426) < 0.005)
        let spend = try #require(model.gammaGamma)
        #expect(spend.customers == 946)
        #expect(abs(spend.parameters.p - 6.25) < 0.005)
        #expect(abs(spend.parameters.q - 3.74) < 0.005)
        #expect(abs(spend.parameters.v - 15.44) < 0.01)

        let predictions = FullRescoring.predict(activities, model: model)
        #expect(abs((predictions[0].pAlive ?? 0) - 0.7266) < 0.00005)
        let scorer = CustomerScorer(model: model)
        for (activity, bulk) in zip(activities, predictions) {
            #expect(bulk == scorer.predictions(activity))
        }

        FullRescoring.calibrate(&model, activities: activities, predictions: predictions)
        let cutoffs = try #require(model.tierCutoffs)
        let gold = try #require(cutoffs.gold)
        let values = zip(activities, predictions).map { activity, prediction in
            CLVFigures(
                historical: activity.netValue,
                simple: CustomerScorer(model: model).plainValues(activity, asOf: Self.calibrationEnd).simple,
                predicted: prediction.predicted
            ).value(for: Self.settings.tiering.valueBasis).value
        }
        // Gold starts above the value that the bottom 80% of the customers with value reach: a sort's position.
        let sorted = values.filter { $0 > 0 }.sorted()
        let position = Int((Double(sorted.count) * (1 - Self.settings.tiering.goldShare) - 1e-9).rounded(.up)) - 1
        #expect(gold == sorted[position])
        #expect(model.rfm != nil)
    }
}
