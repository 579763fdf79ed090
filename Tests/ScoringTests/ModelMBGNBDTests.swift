import CRMContract
import CRMSupport
import Foundation
import Testing

@testable import Scoring

@Suite("MBG/NBD")
struct ModelMBGNBDTests {
    @Test("fit on the CDNOW sample reproduces lifetimes' estimates r 0.525, α 6.183, a 0.891, b 1.614")
    func cdnowFit() throws {
        let fit = try CDNOW.fittedMBGNBD.get()
        #expect(fit.converged)
        #expect(fit.customerCount == 2_357)
        let published = [(fit.model.r, 0.525), (fit.model.alpha, 6.183), (fit.model.a, 0.891), (fit.model.b, 1.614)]
        for (ours, published) in published {
            #expect(abs(ours / published - 1) < 0.02, "\(ours) vs published \(published)")
        }
        // lifetimes 0.11.3's ModifiedBetaGeoFitter on the same unrounded summaries (days / 7).
        let reference = MBGNBD(
            r: 0.524_842_903_149_596_4,
            alpha: 6.183_081_764_399_258,
            a: 0.891_359_517_271_204_9,
            b: 1.614_002_931_198_278_4
        )
        for (ours, theirs) in [
            (fit.model.r, reference.r), (fit.model.alpha, reference.alpha), (fit.model.a, reference.a),
            (fit.model.b, reference.b),
        ] {
            #expect(abs(ours / theirs - 1) < 1e-5, "\(ours) vs lifetimes \(theirs)")
        }
        #expect(abs(fit.logLikelihood - -9582.136) < 0.01)
    }

    @Test("fit on lifetimes' rounded summary lands on lifetimes' own optimum")
    func sameOptimumAsLifetimes() throws {
        let summaries = try CDNOW.publishedTransactionSummaries()
        let model = try MBGNBD.fit(summaries).model
        // lifetimes 0.11.3 on cdnow_customers_summary_with_transactions.csv.
        let reference = MBGNBD(
            r: 0.524_837_725_567_662_3,
            alpha: 6.182_988_479_133_949,
            a: 0.891_356_280_931_140_3,
            b: 1.614_000_025_672_142_5
        )
        for (ours, theirs) in [
            (model.r, reference.r), (model.alpha, reference.alpha), (model.a, reference.a), (model.b, reference.b),
        ] {
            #expect(abs(ours / theirs - 1) < 1e-5, "\(ours) vs lifetimes \(theirs)")
        }
    }

    struct Point: Sendable {
        var x: Int
        var tx: Double
        var T: Double
        var alive: Double
        var next39: Double
        var next52: Double
    }

    /// lifetimes 0.11.3's `conditional_probability_alive` and `conditional_expected_number_of_purchases_up_to_time`
    /// (t = 39 and 52) with the published parameters r 0.525, α 6.183, a 0.891, b 1.614.
    static let points = [
        Point(
            x: 0,
            tx: 0,
            T: 38.86,
            alive: 0.389_735_080_918_762_91,
            next39: 0.154_012_746_675_145_53,
            next52: 0.197_705_817_416_369_64
        ),
        Point(
            x: 2,
            tx: 30.43,
            T: 38.86,
            alive: 0.706_202_265_118_487_27,
            next39: 1.262_960_623_267_343_2,
            next52: 1.597_216_630_818_084_4
        ),
        Point(
            x: 25,
            tx: 35,
            T: 38.86,
            alive: 0.752_131_244_822_275_22,
            next39: 12.595_310_346_398_502,
            next52: 15.671_100_314_435_495
        ),
        Point(
            x: 7,
            tx: 35,
            T: 38,
            alive: 0.850_646_751_682_221_81,
            next39: 4.394_047_418_380_588_4,
            next52: 5.495_689_133_306_943_8
        ),
        Point(
            x: 1,
            tx: 1,
            T: 2,
            alive: 0.706_308_323_082_077_47,
            next39: 2.778_313_404_618_628_2,
            next52: 3.308_798_411_904_317_7
        ),
        Point(
            x: 0,
            tx: 0,
            T: 0,
            alive: 0.644_311_377_245_509_02,
            next39: 1.182_953_665_597_171_3,
            next52: 1.419_723_757_712_734_4
        ),
    ]

    static let published = MBGNBD(r: 0.525, alpha: 6.183, a: 0.891, b: 1.614)

    @Test("P(alive) and conditional expectations match lifetimes", arguments: points)
    func predictions(_ point: Point) {
        let model = Self.published
        let alive = model.probabilityAlive(x: point.x, tx: point.tx, T: point.T)
        #expect(abs(alive / point.alive - 1) < 1e-12, "P(alive) \(alive) vs \(point.alive)")
        for (t, expected) in [(39.0, point.next39), (52.0, point.next52)] {
            let value = model.conditionalExpectedPurchases(t: t, x: point.x, tx: point.tx, T: point.T)
            #expect(abs(value / expected - 1) < 1e-11, "t \(t): \(value) vs \(expected)")
        }
    }

    @Test("a new customer: lifetimes' expected_number_of_purchases_up_to_time, and P(alive) b / (a + b)")
    func newCustomer() {
        let model = Self.published
        // lifetimes 0.11.3 with the published parameters.
        for (t, expected) in [
            (1.0, 0.053_084_795_263_698_685), (39, 1.182_953_665_597_171_3), (52, 1.419_723_757_712_734_4),
            (78, 1.804_757_577_553_131_3),
        ] {
            #expect(abs(model.expectedPurchases(t: t) / expected - 1) < 1e-11, "t \(t)")
        }
        #expect(abs(model.probabilityAlive(x: 0, tx: 0, T: 0) - model.b / (model.a + model.b)) < 1e-15)
        #expect(model.expectedPurchases(t: 0) == 0)
        #expect(model.expectedPurchases(t: -1).isNaN)
        // Unlike BG/NBD, silence makes a customer who never came back less likely alive.
        #expect(model.probabilityAlive(x: 0, tx: 0, T: 50) < model.probabilityAlive(x: 0, tx: 0, T: 5))
        #expect(model.probabilityAlive(x: 500, tx: 1, T: 10_000) == 0)
        // a = 1 is a removable singularity of the closed form, not a NaN.
        let unit = MBGNBD(r: 0.5, alpha: 3, a: 1, b: 2)
        let nearby = MBGNBD(r: 0.5, alpha: 3, a: 1 + 1e-9, b: 2)
        #expect(abs(unit.expectedPurchases(t: 10) - nearby.expectedPurchases(t: 10)) < 1e-8)
    }

    @Test("the batch prediction equals the one-customer prediction")
    func batch() throws {
        let model = try CDNOW.fittedMBGNBD.get().model
        let customers = try CDNOW.sampleSummaries()
        let batch = model.conditionalExpectedPurchases(t: 52, for: customers)
        for (customer, value) in zip(customers, batch) {
            #expect(value == model.conditionalExpectedPurchases(t: 52, for: customer))
        }
    }

    @Test("analytic gradient matches finite differences, near and far from the optimum")
    func gradient() throws {
        let sample = try BGNBDSample(CDNOW.sampleSummaries())
        for point in [[0.525, 6.183, 0.891, 1.614], [1, 1, 1, 1], [0.05, 40, 3, 0.5]] {
            ModelLikelihoodTests.checkGradient(at: point.map { log($0) }, sample.modifiedNegativeLogLikelihood)
        }
    }

    @Test("fit errors: no customers, an invalid summary, no repeat purchase")
    func fitErrors() {
        #expect(throws: ModelFitError(.noCustomers)) { try MBGNBD.fit([TransactionSummary]()) }
        let invalid = [TransactionSummary(frequency: 1, recency: 6, age: 5)]
        #expect(throws: ModelFitError(.invalidSummary, index: 0)) { try MBGNBD.fit(invalid) }
        let sameDay = Array(repeating: TransactionSummary(frequency: 0, recency: 0, age: 0), count: 100)
        #expect(throws: ModelFitError(.degenerate)) { try MBGNBD.fit(sameDay) }
    }

    @Test("parameters round-trip through JSON")
    func codable() throws {
        let data = try JSONEncoder().encode(Self.published)
        #expect(try JSONDecoder().decode(MBGNBD.self, from: data) == Self.published)
    }
}
