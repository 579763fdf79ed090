import CRMContract
import CRMSupport
import Foundation
import Scoring
import Testing

@Suite("BG/NBD")
struct ModelBGNBDTests {
    @Test("fit on the CDNOW sample reproduces the published estimates r 0.243, α 4.414, a 0.793, b 2.426")
    func cdnowFit() throws {
        let fit = try CDNOW.fittedBGNBD.get()
        #expect(fit.converged)
        #expect(fit.customerCount == 2_357)
        #expect(abs(fit.model.r - 0.243) <= 0.001)
        #expect(abs(fit.model.alpha - 4.414) <= 0.002)
        #expect(abs(fit.model.a - 0.793) <= 0.002)
        #expect(abs(fit.model.b - 2.426) <= 0.002)
        // The paper's log-likelihood at its estimates (Fader, Hardie & Lee 2005, section 5).
        #expect(abs(fit.logLikelihood - -9582.4) < 0.1)
    }

    @Test("fit on lifetimes' rounded summary lands on lifetimes' own optimum")
    func sameOptimumAsLifetimes() throws {
        let summaries = try CDNOW.publishedTransactionSummaries()
        let fit = try BGNBD.fit(summaries)
        let reference = CDNOW.lifetimesBGNBD
        for (ours, theirs) in [
            (fit.model.r, reference.r), (fit.model.alpha, reference.alpha), (fit.model.a, reference.a),
            (fit.model.b, reference.b),
        ] {
            #expect(abs(ours / theirs - 1) < 1e-5, "\(ours) vs lifetimes \(theirs)")
        }
    }

    @Test("customer 1 (x 2, t_x 30.43, T 38.86): P(alive) 0.7266, 1.2259 purchases in the next 39 weeks")
    func customerOne() throws {
        // The published figures come from the full-precision estimates: with r, α, a, b rounded to 3 digits
        // the expectation moves to 1.2260, so check our own fit and lifetimes' estimates, not the rounded ones.
        for model in [try CDNOW.fittedBGNBD.get().model, CDNOW.lifetimesBGNBD] {
            #expect(abs(model.probabilityAlive(x: 2, tx: 30.43, T: 38.86) - 0.7266) < 0.00005)
            #expect(abs(model.conditionalExpectedPurchases(t: 39, x: 2, tx: 30.43, T: 38.86) - 1.2259) < 0.00005)
        }
        // lifetimes' own figures at its estimates, to 1e-12.
        let reference = CDNOW.lifetimesBGNBD
        #expect(abs(reference.probabilityAlive(x: 2, tx: 30.43, T: 38.86) - 0.726_609_136_799_059_6) < 1e-12)
        #expect(
            abs(reference.conditionalExpectedPurchases(t: 39, x: 2, tx: 30.43, T: 38.86) - 1.225_910_424_174_408_5)
                < 1e-12
        )
    }

    @Test("fit on the exact CDNOW summaries matches lifetimes run on the same exact summaries")
    func exactDataOptimum() throws {
        // lifetimes 0.11.3 on summary_data_from_transaction_data(freq="D") / 7, i.e. on unrounded times.
        let reference = BGNBD(
            r: 0.242_594_543_421_067_26,
            alpha: 4.413_602_716_077_381,
            a: 0.792_921_833_347_948_4,
            b: 2.425_905_728_722_046_5
        )
        let model = try CDNOW.fittedBGNBD.get().model
        for (ours, theirs) in [
            (model.r, reference.r), (model.alpha, reference.alpha), (model.a, reference.a), (model.b, reference.b),
        ] {
            #expect(abs(ours / theirs - 1) < 1e-5, "\(ours) vs lifetimes \(theirs)")
        }
    }

    struct ExpectationCase: Sendable {
        var model: BGNBD
        var t: Double
        var x: Int
        var tx: Double
        var T: Double
        var expected: Double
    }

    /// mpmath at 40 digits on the published closed form, over short and very long horizons (z up to 0.996),
    /// x = 0 and large x, a < 1, a > 1, and a = 1 (taken as the limit a = 1 + 10⁻⁴⁰, at 90 digits).
    static let expectationCases: [ExpectationCase] = {
        let cdnow = CDNOW.lifetimesBGNBD
        let above = BGNBD(r: 1.5, alpha: 10, a: 2.5, b: 4)
        let unit = BGNBD(r: 0.5, alpha: 3, a: 1, b: 2)
        return [
            ExpectationCase(model: cdnow, t: 39, x: 2, tx: 30.43, T: 38.86, expected: 1.225_910_424_174_414_585_7),
            ExpectationCase(model: cdnow, t: 39, x: 0, tx: 0, T: 38.86, expected: 0.194_780_857_939_479_380_44),
            ExpectationCase(model: cdnow, t: 52, x: 0, tx: 0, T: 0, expected: 1.444_020_769_869_094_249_4),
            ExpectationCase(model: cdnow, t: 1, x: 7, tx: 35, T: 38, expected: 0.146_100_483_999_223_442_43),
            ExpectationCase(model: cdnow, t: 1_000, x: 0, tx: 0, T: 0, expected: 6.573_096_101_731_351_768_3),
            ExpectationCase(model: cdnow, t: 5_000, x: 3, tx: 10, T: 20, expected: 21.610_785_899_503_797_129),
            ExpectationCase(model: cdnow, t: 0.001, x: 1, tx: 1, T: 2, expected: 0.000_138_040_339_170_212_908_11),
            ExpectationCase(model: cdnow, t: 100, x: 40, tx: 38, T: 39, expected: 52.857_228_228_885_325_765),
            ExpectationCase(model: above, t: 10, x: 0, tx: 0, T: 5, expected: 0.763_238_253_907_555_508_82),
            ExpectationCase(model: above, t: 50, x: 3, tx: 20, T: 30, expected: 1.167_639_157_830_911_109_9),
            ExpectationCase(model: above, t: 500, x: 1, tx: 2, T: 3, expected: 2.390_980_851_728_015_069_2),
            ExpectationCase(model: unit, t: 10, x: 0, tx: 0, T: 5, expected: 0.492_574_205_256_839_023_07),
            ExpectationCase(model: unit, t: 50, x: 3, tx: 20, T: 30, expected: 1.890_969_619_182_363_967_4),
        ]
    }()

    @Test("conditional expected purchases against mpmath", arguments: expectationCases)
    func conditionalExpectation(_ known: ExpectationCase) {
        let value = known.model.conditionalExpectedPurchases(t: known.t, x: known.x, tx: known.tx, T: known.T)
        #expect(abs(value / known.expected - 1) < 1e-12, "got \(value), expected \(known.expected)")
    }

    @Test("a new customer's expectation is the conditional one at x = 0, T = 0; edge cases")
    func newCustomerAndEdges() {
        let model = CDNOW.lifetimesBGNBD
        #expect(model.expectedPurchases(t: 52) == model.conditionalExpectedPurchases(t: 52, x: 0, tx: 0, T: 0))
        #expect(model.expectedPurchases(t: 0) == 0)
        #expect(model.expectedPurchases(t: -1).isNaN)
        #expect(model.probabilityAlive(x: 0, tx: 0, T: 50) == 1)
        // A customer who bought recently is more likely alive than one who stopped long ago.
        #expect(model.probabilityAlive(x: 3, tx: 35, T: 38) > model.probabilityAlive(x: 3, tx: 5, T: 38))
        // No overflow for long silences: ((α+T)/(α+t_x))^(r+x) is far beyond Double's range here.
        #expect(model.probabilityAlive(x: 500, tx: 1, T: 10_000) == 0)
        // a = 1 exactly is a removable singularity of the closed form, not a NaN.
        let unit = BGNBD(r: 0.5, alpha: 3, a: 1, b: 2)
        let nearby = BGNBD(r: 0.5, alpha: 3, a: 1 + 1e-9, b: 2)
        #expect(abs(unit.expectedPurchases(t: 10) - nearby.expectedPurchases(t: 10)) < 1e-8)
    }

    @Test("fit rejects empty input and invalid summaries, with the position of the bad one")
    func fitErrors() {
        #expect(throws: ModelFitError(.noCustomers)) { try BGNBD.fit([TransactionSummary]()) }
        let summaries = [
            TransactionSummary(frequency: 1, recency: 2, age: 5),
            TransactionSummary(frequency: 1, recency: 6, age: 5),
        ]
        #expect(throws: ModelFitError(.invalidSummary, index: 1)) { try BGNBD.fit(summaries) }
        // Everyone bought once on the same day: no parameter can be told from that, so no model.
        let sameDay = Array(repeating: TransactionSummary(frequency: 0, recency: 0, age: 0), count: 100)
        #expect(throws: ModelFitError(.degenerate)) { try BGNBD.fit(sameDay) }
    }

    @Test("parameters round-trip through JSON")
    func codable() throws {
        let data = try JSONEncoder().encode(CDNOW.lifetimesBGNBD)
        #expect(try JSONDecoder().decode(BGNBD.self, from: data) == CDNOW.lifetimesBGNBD)
    }
}
