import CRMContract
import Foundation
import Testing

@testable import Scoring

@Suite("Pareto/NBD")
struct ModelParetoNBDTests {
    @Test("fit on the CDNOW sample reproduces the published r 0.553, α 10.578, s 0.606, β 11.667")
    func cdnowFit() throws {
        let fit = try CDNOW.fittedParetoNBD.get()
        #expect(fit.converged)
        #expect(fit.customerCount == 2_357)
        let model = fit.model
        for (ours, published) in [(model.r, 0.553), (model.alpha, 10.578), (model.s, 0.606), (model.beta, 11.667)] {
            #expect(abs(ours / published - 1) < 0.02, "\(ours) vs published \(published)")
        }
        // lifetimes 0.11.3's ParetoNBDFitter likelihood on the same unrounded summaries, minimised to 10⁻¹² by
        // Nelder–Mead from its own fit (whose default tolerance stops 10⁻⁴ short); total log-likelihood there.
        let reference = ParetoNBD(
            r: 0.553_277_090_477_791_1,
            alpha: 10.577_683_953_150_562,
            s: 0.606_239_948_161_571_6,
            beta: 11.668_733_403_594_254
        )
        for (ours, theirs) in [
            (model.r, reference.r), (model.alpha, reference.alpha), (model.s, reference.s),
            (model.beta, reference.beta),
        ] {
            #expect(abs(ours / theirs - 1) < 1e-5, "\(ours) vs lifetimes \(theirs)")
        }
        #expect(abs(fit.logLikelihood - -9_594.976_178_939_542) < 1e-6)
    }

    @Test("the likelihood at a point equals lifetimes' there, and its gradient finite differences")
    func likelihood() throws {
        let sample = try BGNBDSample(CDNOW.sampleSummaries())
        let pass = ParetoLikelihood(sample)
        var gradient = [Double](repeating: 0, count: 4)
        let optimum = [
            0.553_277_090_477_791_1, 10.577_683_953_150_562, 0.606_239_948_161_571_6, 11.668_733_403_594_254,
        ]
        let total = pass.negativeLogLikelihood(optimum.map { log($0) }, &gradient) * sample.totalWeight
        #expect(abs(total - 9_594.976_178_939_542) < 1e-8)
        // Near the optimum, α > β, and rate parameters 10⁶ apart (the small-u series and its differences).
        for point in [[0.553, 10.578, 0.606, 11.667], [2.2, 30, 0.3, 0.5], [0.5, 0.01, 0.8, 10_000], [1, 1, 1, 1]] {
            ModelLikelihoodTests.checkGradient(at: point.map { log($0) }, pass.negativeLogLikelihood)
        }
    }

    @Test(
        "the pass over (x, t) pairs equals the sum of every customer's own likelihood terms",
        arguments: [
            [0.553, 10.578, 0.606, 11.667], [1.14, 12.5, 0.75, 137.2], [2.2, 30, 0.3, 0.5], [0.5, 0.01, 0.8, 10_000],
            [0.63, 13.6, 10_000, 397_510], [1, 1, 1, 1],
        ]
    )
    func pairsEqualCustomers(point: [Double]) throws {
        // A sample with young customers too (T of a day or two), whose tails' difference cancels.
        var summaries = try CDNOW.sampleSummaries()
        summaries += (0..<40).map { TransactionSummary(frequency: $0 % 3, recency: Double($0 % 3) / 14, age: 2.0 / 7) }
        let sample = try BGNBDSample(summaries)
        let model = ParetoNBD(r: point[0], alpha: point[1], s: point[2], beta: point[3])
        var expected = (value: 0.0, dr: 0.0, dalpha: 0.0, ds: 0.0, dbeta: 0.0)
        for customer in summaries {
            let (x, tx, T) = (customer.frequency, customer.recency, customer.age)
            let terms = model.likelihoodTerms(
                x: x,
                tx: tx,
                T: T,
                logAlpha: (log(model.alpha + tx), log(model.alpha + T)),
                logBeta: (log(model.beta + tx), log(model.beta + T)),
                gradient: true
            )
            let k = model.r + Double(x)
            let total = max(terms.alive, terms.dead) + log1p(exp(-abs(terms.alive - terms.dead)))
            let (piAlive, piDead) = (exp(terms.alive - total), exp(terms.dead - total))
            expected.value +=
                SpecialFunctions.logGamma(k) - SpecialFunctions.logGamma(model.r) + model.r * log(model.alpha)
                + model.s * log(model.beta) + total
            expected.dr +=
                SpecialFunctions.digamma(k) - SpecialFunctions.digamma(model.r) + log(model.alpha)
                + (piDead > 0 ? piDead * terms.deadGradient.r : 0) - piAlive * log(model.alpha + T)
            expected.ds +=
                log(model.beta) + (piDead > 0 ? piDead * terms.deadGradient.s : 0) - piAlive * log(model.beta + T)
            expected.dalpha +=
                model.r / model.alpha + (piDead > 0 ? piDead * terms.deadGradient.alpha : 0)
                - piAlive * k / (model.alpha + T)
            expected.dbeta +=
                model.s / model.beta + (piDead > 0 ? piDead * terms.deadGradient.beta : 0)
                - piAlive * model.s / (model.beta + T)
        }
        var gradient = [Double](repeating: 0, count: 4)
        let n = Double(summaries.count)
        let value = ParetoLikelihood(sample).negativeLogLikelihood(point.map { log($0) }, &gradient)
        // At s = 10⁴ (the fit's bound) terms 10⁴ times the result cancel: both sides round at 10⁻¹¹ and 10⁻⁷.
        let (valueTolerance, gradientTolerance, gradientFloor) =
            point[2] > 1_000 ? (1e-10, 1e-6, 1.0) : (1e-11, 1e-7, 1e-3)
        #expect(abs(-value * n / expected.value - 1) < valueTolerance, "\(-value * n) vs \(expected.value)")
        let theirs = [
            -model.r * expected.dr / n, -model.alpha * expected.dalpha / n, -model.s * expected.ds / n,
            -model.beta * expected.dbeta / n,
        ]
        for (ours, theirs) in zip(gradient, theirs) {
            #expect(abs(ours - theirs) < gradientTolerance * max(abs(theirs), gradientFloor), "\(ours) vs \(theirs)")
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
    /// (t = 39 and 52) with the published parameters r 0.553, α 10.578, s 0.606, β 11.667.
    static let points = [
        Point(
            x: 0,
            tx: 0,
            T: 38.86,
            alive: 0.295_255_398_065_585_1,
            next39: 0.107_069_518_338_911_28,
            next52: 0.136_185_648_616_158_14
        ),
        Point(
            x: 2,
            tx: 30.43,
            T: 38.86,
            alive: 0.869_162_285_617_232_52,
            next39: 1.455_105_758_255_103_5,
            next52: 1.850_802_399_855_953_1
        ),
        Point(
            x: 25,
            tx: 35,
            T: 38.86,
            alive: 0.856_827_584_420_656_21,
            next39: 14.357_479_530_227_595,
            next52: 18.261_804_971_683_205
        ),
        Point(
            x: 7,
            tx: 35,
            T: 38,
            alive: 0.952_837_715_699_316_86,
            next39: 4.790_515_498_613_112_7,
            next52: 6.090_163_641_979_724_9
        ),
        Point(
            x: 1,
            tx: 1,
            T: 2,
            alive: 0.952_100_239_376_319_6,
            next39: 2.860_518_649_784_893_3,
            next52: 3.490_572_765_873_059
        ),
        Point(x: 0, tx: 0, T: 0, alive: 1, next39: 1.212_938_462_938_206_3, next52: 1.472_910_966_926_918_3),
    ]

    static let published = ParetoNBD(r: 0.553, alpha: 10.578, s: 0.606, beta: 11.667)

    @Test("P(alive) and conditional expectations match lifetimes", arguments: points)
    func predictions(_ point: Point) {
        let model = Self.published
        let alive = model.probabilityAlive(x: point.x, tx: point.tx, T: point.T)
        #expect(abs(alive / point.alive - 1) < 1e-11, "P(alive) \(alive) vs \(point.alive)")
        for (t, expected) in [(39.0, point.next39), (52.0, point.next52)] {
            let value = model.conditionalExpectedPurchases(t: t, x: point.x, tx: point.tx, T: point.T)
            #expect(abs(value / expected - 1) < 1e-11, "t \(t): \(value) vs \(expected)")
        }
    }

    struct ExtremeCase: Sendable {
        var model: ParetoNBD
        var x: Int
        var tx: Double
        var T: Double
        var alive: Double
        var next52: Double
    }

    /// mpmath at 80 digits on the published closed form, where the usual series converge slowly or not at all:
    /// β 10⁶ times α (z → 1 at t_x = 0), α 6,000 times β, and a customer all but surely dead.
    static let extremeCases: [ExtremeCase] = {
        let slowDeath = ParetoNBD(r: 0.5, alpha: 0.01, s: 0.8, beta: 10_000)
        let slowBuying = ParetoNBD(r: 2.2, alpha: 300, s: 0.3, beta: 0.05)
        return [
            ExtremeCase(
                model: slowDeath,
                x: 0,
                tx: 0,
                T: 38.86,
                alive: 0.993_913_302_393_634_091_13,
                next52: 0.663_451_734_082_325_743_93
            ),
            ExtremeCase(
                model: slowDeath,
                x: 3,
                tx: 2,
                T: 38.86,
                alive: 0.327_928_660_267_395_110_11,
                next52: 1.532_280_395_583_962_434_7
            ),
            ExtremeCase(
                model: slowDeath,
                x: 40,
                tx: 30.5,
                T: 78,
                alive: 4.973_143_281_725_562_173_1e-13,
                next52: 1.339_814_162_573_407_136_6e-11
            ),
            ExtremeCase(
                model: slowBuying,
                x: 0,
                tx: 0,
                T: 38.86,
                alive: 0.108_916_624_256_962_619_32,
                next52: 0.031_888_188_857_168_995_907
            ),
            ExtremeCase(
                model: slowBuying,
                x: 3,
                tx: 2,
                T: 38.86,
                alive: 0.305_496_434_487_400_533_28,
                next52: 0.211_408_521_868_075_576_64
            ),
            ExtremeCase(
                model: slowBuying,
                x: 40,
                tx: 30.5,
                T: 78,
                alive: 0.041_155_103_713_836_797_482,
                next52: 0.220_084_301_311_214_899_7
            ),
        ]
    }()

    @Test("P(alive) and expectations against mpmath where the usual series fail", arguments: extremeCases)
    func extremes(_ known: ExtremeCase) {
        let alive = known.model.probabilityAlive(x: known.x, tx: known.tx, T: known.T)
        let next = known.model.conditionalExpectedPurchases(t: 52, x: known.x, tx: known.tx, T: known.T)
        #expect(abs(alive / known.alive - 1) < 1e-10, "P(alive) \(alive) vs \(known.alive)")
        #expect(abs(next / known.next52 - 1) < 1e-10, "\(next) vs \(known.next52)")
    }

    @Test("edge cases: a purchase at T, s = 1, α = β, new customers, negative horizons")
    func edges() {
        let model = Self.published
        #expect(model.probabilityAlive(x: 3, tx: 20, T: 20) == 1)
        #expect(model.expectedPurchases(t: 52) == model.conditionalExpectedPurchases(t: 52, x: 0, tx: 0, T: 0))
        // lifetimes' expected_number_of_purchases_up_to_time at t = 78.
        #expect(abs(model.expectedPurchases(t: 78) / 1.909_273_971_298_097_9 - 1) < 1e-12)
        #expect(model.expectedPurchases(t: 0) == 0)
        #expect(model.expectedPurchases(t: -1).isNaN)
        // s = 1 is a removable singularity of the expectation; α = β joins the two branches of the integral.
        let unit = ParetoNBD(r: 0.5, alpha: 8, s: 1, beta: 12)
        let nearby = ParetoNBD(r: 0.5, alpha: 8, s: 1 + 1e-9, beta: 12)
        #expect(abs(unit.expectedPurchases(t: 10) - nearby.expectedPurchases(t: 10)) < 1e-8)
        let equal = ParetoNBD(r: 0.5, alpha: 10, s: 0.6, beta: 10)
        for beta in [10 - 1e-9, 10 + 1e-9] {
            let close = ParetoNBD(r: 0.5, alpha: 10, s: 0.6, beta: beta)
            let alive = equal.probabilityAlive(x: 2, tx: 10, T: 30)
            #expect(abs(alive - close.probabilityAlive(x: 2, tx: 10, T: 30)) < 1e-9)
        }
    }

    @Test("the batch prediction equals the one-customer prediction")
    func batch() throws {
        let model = Self.published
        let customers = try CDNOW.sampleSummaries()
        let batch = model.conditionalExpectedPurchases(t: 52, for: customers)
        for (customer, value) in zip(customers, batch) {
            #expect(value == model.conditionalExpectedPurchases(t: 52, for: customer))
        }
    }

    @Test("fit errors: no customers, an invalid summary, everyone bought once on the same day")
    func fitErrors() {
        #expect(throws: ModelFitError(.noCustomers)) { try ParetoNBD.fit([TransactionSummary]()) }
        let invalid = [TransactionSummary(frequency: 0, recency: 1, age: 5)]
        #expect(throws: ModelFitError(.invalidSummary, index: 0)) { try ParetoNBD.fit(invalid) }
        let sameDay = Array(repeating: TransactionSummary(frequency: 0, recency: 0, age: 0), count: 100)
        #expect(throws: ModelFitError(.degenerate)) { try ParetoNBD.fit(sameDay) }
        let noRepeat = (1...100).map { TransactionSummary(frequency: 0, recency: 0, age: Double($0)) }
        #expect(throws: ModelFitError(.degenerate)) { try ParetoNBD.fit(noRepeat) }
    }

    @Test("parameters round-trip through JSON")
    func codable() throws {
        let data = try JSONEncoder().encode(Self.published)
        #expect(try JSONDecoder().decode(ParetoNBD.self, from: data) == Self.published)
    }
}
