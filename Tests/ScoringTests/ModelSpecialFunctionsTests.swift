import Foundation
import Testing

@testable import Scoring

@Suite("Special functions")
struct ModelSpecialFunctionsTests {
    struct HypergeometricCase: Sendable, CustomTestStringConvertible {
        var a: Double
        var b: Double
        var c: Double
        var z: Double
        var expected: Double
        var tolerance: Double

        init(_ a: Double, _ b: Double, _ c: Double, _ z: Double, _ expected: Double, tolerance: Double = 1e-13) {
            (self.a, self.b, self.c, self.z, self.expected, self.tolerance) = (a, b, c, z, expected, tolerance)
        }

        var testDescription: String { "2F1(\(a), \(b); \(c); \(z))" }
    }

    /// Closed forms and mpmath (40 digits), across the direct series, Euler (c − a − b < 0), Pfaff (z < 0),
    /// Gauss (z = 1), terminating and near-1 cases.
    static let hypergeometricCases: [HypergeometricCase] = [
        HypergeometricCase(1, 1, 2, 0.5, 2 * log(2.0)),  // −ln(1 − z) / z
        HypergeometricCase(0.5, 0.5, 1.5, 0.25, Double.pi / 3),  // arcsin(√z) / √z
        HypergeometricCase(1, 1, 2, -1, log(2.0)),  // ln(1 − z) / (−z), through Pfaff
        HypergeometricCase(2, 3, 4, -5, 0.053_995_545_477_053_359_961),  // |z| > 1, through Pfaff
        HypergeometricCase(1.5, 2.5, 3.2, 0.9, 11.432_540_171_549_511_209),  // Euler
        // Euler with z near 1: some 40,000 terms, whose rounding adds up to about 1e-13.
        HypergeometricCase(1.5, 2.5, 3.2, 0.999, 593.474_331_842_369_019_36, tolerance: 1e-12),
        HypergeometricCase(0.3, -0.7, 2.4, 0.95, 0.910_743_545_901_331_312_13),
        HypergeometricCase(0.1, 0.2, 0.3, 0.5, 1.046_432_811_217_352_081_1),
        HypergeometricCase(5, 6, 3, 0.3, 28.535_243_454_197_287_395),  // terms grow before they shrink
        HypergeometricCase(1.2, 0.7, 4.5, 1, 1.320_126_608_234_390_706_2),  // Gauss's theorem
        HypergeometricCase(-2, 3, 4, 0.7, 0.244),  // terminates: 1 − 1.5 z + 0.6 z²
    ]

    @Test("2F1 against known values", arguments: hypergeometricCases)
    func hypergeometric(_ known: HypergeometricCase) {
        let value = SpecialFunctions.hypergeometric2F1(known.a, known.b, known.c, known.z)
        #expect(abs(value / known.expected - 1) < known.tolerance, "got \(value), expected \(known.expected)")
    }

    @Test("2F1 outside its domain")
    func hypergeometricDomain() {
        #expect(SpecialFunctions.hypergeometric2F1(1, 1, 2, 1.5).isNaN)
        #expect(SpecialFunctions.hypergeometric2F1(1, 1, -2, 0.5).isNaN)
        #expect(SpecialFunctions.hypergeometric2F1(1, 1, 2, 1) == .infinity)
        #expect(SpecialFunctions.hypergeometric2F1(1, 1, 2, 0) == 1)
    }

    @Test("the excess series stays exact as b → 0, where (2F1 − 1) / b is 0/0")
    func excessNearZero() {
        // At b → 0 the series is Σ (a)ₙ zⁿ / ((c)ₙ n), which for c = a is −ln(1 − z).
        for b in [0, 1e-300, 1e-12] {
            let excess = SpecialFunctions.hypergeometric2F1Excess(1.7, b, 1.7, 0.6)
            #expect(abs(excess / -log(0.4) - 1) < 1e-11, "b = \(b)")
        }
        // And it is what ₂F₁ is built from, for ordinary b.
        let full = SpecialFunctions.hypergeometric2F1(1.7, 0.4, 3.1, 0.6)
        #expect(abs(1 + 0.4 * SpecialFunctions.hypergeometric2F1Excess(1.7, 0.4, 3.1, 0.6) - full) < 1e-15)
    }

    struct PowerIntegralCase: Sendable, CustomTestStringConvertible {
        var p: Double
        var q: Double
        var m: Double
        var M: Double
        var t0: Double
        var t1: Double
        var expected: Double

        init(_ p: Double, _ q: Double, _ m: Double, _ M: Double, _ t0: Double, _ t1: Double, _ expected: Double) {
            (self.p, self.q, self.m, self.M, self.t0, self.t1, self.expected) = (p, q, m, M, t0, t1, expected)
        }

        var testDescription: String { "p \(p), q \(q), m \(m), M \(M), [\(t0), \(t1)]" }
    }

    /// mpmath (80 digits) on the published closed form, ln(I(t₀) − I(t₁)) with I(t) = (M + t)^(−c)
    /// ₂F₁(c, p; c + 1; (M − m) / (M + t)) / c, across the z-series, the small-u binomial series, the split between
    /// them, integer p (the logarithmic term), integer c (a terminating series), m = M and c near 150.
    static let powerIntegralCases: [PowerIntegralCase] = [
        PowerIntegralCase(2.553, 1.606, 10.578, 11.667, 30.43, 38.86, -13.728_273_110_428_293_861_56),
        PowerIntegralCase(2, 1.5, 0.01, 100, 0, 0.1, -2.398_140_829_665_423_065_992),
        PowerIntegralCase(0.7, 1.3, 0.001, 50, 0, 200, -2.817_490_614_171_346_058_797),
        PowerIntegralCase(1, 1.5, 0.5, 5_000, 0, 39, -11.303_671_326_844_505_808_86),
        PowerIntegralCase(150.3, 1.6, 0.2, 3_000, 2, 30, -135.533_903_932_988_348_153_6),
        PowerIntegralCase(1.6, 3.5, 2, 20, 5, 39, -13.103_751_030_896_412_978_07),
        PowerIntegralCase(2.5, 1.6, 10, 10, 1, 5, -9.046_672_763_707_710_808_093),
        PowerIntegralCase(1.5, 1.5, 0.01, 1_000, 0, 1, -7.470_845_579_832_990_547_534),
        PowerIntegralCase(0.3, 1.2, 1, 100, 0, 50, -2.696_648_508_543_189_100_818),
        PowerIntegralCase(0.3, 1.2, 60, 100, 0, 50, -3.183_678_525_119_574_795_076),
        PowerIntegralCase(3.000_001, 1.4, 0.05, 800, 0.5, 78, -8.857_797_413_163_889_775_001),
    ]

    @Test("the Pareto/NBD power integral against mpmath", arguments: powerIntegralCases)
    func powerIntegral(_ known: PowerIntegralCase) {
        let logs = (log(known.m + known.t0), log(known.M + known.t0), log(known.m + known.t1), log(known.M + known.t1))
        let value = SpecialFunctions.logPowerProductIntegral(
            p: known.p,
            q: known.q,
            m: known.m,
            M: known.M,
            from: known.t0,
            to: known.t1,
            logs: logs,
            gradient: true
        )
        #expect(abs(value.value - known.expected) < 1e-12 * max(1, abs(known.expected)), "got \(value.value)")
        // The derivatives against central differences of the value.
        func at(_ p: Double, _ q: Double, _ m: Double, _ M: Double) -> Double {
            let logs = (log(m + known.t0), log(M + known.t0), log(m + known.t1), log(M + known.t1))
            return SpecialFunctions.logPowerProductIntegral(
                p: p,
                q: q,
                m: m,
                M: M,
                from: known.t0,
                to: known.t1,
                logs: logs
            ).value
        }
        let (p, q, m, M) = (known.p, known.q, known.m, known.M)
        let h = 1e-6
        let numeric = [
            (at(p * (1 + h), q, m, M) - at(p * (1 - h), q, m, M)) / (2 * h * p),
            (at(p, q * (1 + h), m, M) - at(p, q * (1 - h), m, M)) / (2 * h * q),
            (at(p, q, m * (1 + h), M) - at(p, q, m * (1 - h), M)) / (2 * h * m),
            (at(p, q, m, M * (1 + h)) - at(p, q, m, M * (1 - h))) / (2 * h * M),
        ]
        let analytic = [value.dp, value.dq, value.dm, value.dM]
        // (At m = M only p and q: the arguments must keep m ≤ M.)
        let names = m < M ? ["p", "q", "m", "M"] : ["p", "q"]
        for (name, (ours, theirs)) in zip(names, zip(analytic, numeric)) {
            #expect(abs(ours - theirs) < 1e-6 * max(1, abs(theirs)), "∂/∂\(name): \(ours) vs \(theirs)")
        }
        // Nothing to integrate over an empty range.
        let empty = (logs.0, logs.1, logs.0, logs.1)
        let none = SpecialFunctions.logPowerProductIntegral(
            p: p,
            q: q,
            m: m,
            M: M,
            from: known.t0,
            to: known.t0,
            logs: empty
        )
        #expect(none.value == -.infinity)
    }

    @Test(
        "2F1(1, b; c; z) against mpmath, up to z = 0.999",
        arguments: [
            (1.606, 3.159, 0.09, 1.048_509_337_931_898_719_281),
            (0.5, 1.2, 0.5, 1.327_736_438_706_874_838_753),
            (150.3, 152.0, 0.99, 54.033_161_834_583_962_108_31),
            (2.5, 3.5, 0.999, 14.107_449_140_579_744_390_93),
            (1.3, 1.4, 0.995, 124.193_929_267_156_429_413_5),
        ]
    )
    func hypergeometricUnitA(b: Double, c: Double, z: Double, expected: Double) {
        let value = SpecialFunctions.hypergeometric2F1UnitA(b, c, z)
        #expect(abs(value.value / expected - 1) < 1e-12, "got \(value.value)")
        // The same function as the general ₂F₁, whose series it specialises.
        let general = SpecialFunctions.hypergeometric2F1(1, b, c, z)
        #expect(abs(value.value / general - 1) < 1e-11)
        // Its derivatives against central differences.
        let h = 1e-6
        let db =
            (SpecialFunctions.hypergeometric2F1UnitA(b + h, c, z).value
                - SpecialFunctions.hypergeometric2F1UnitA(b - h, c, z).value) / (2 * h)
        let dc =
            (SpecialFunctions.hypergeometric2F1UnitA(b, c + h, z).value
                - SpecialFunctions.hypergeometric2F1UnitA(b, c - h, z).value) / (2 * h)
        let dz =
            (SpecialFunctions.hypergeometric2F1UnitA(b, c, z + h * (1 - z)).value
                - SpecialFunctions.hypergeometric2F1UnitA(b, c, z - h * (1 - z)).value) / (2 * h * (1 - z))
        for (ours, theirs) in [(value.db, db), (value.dc, dc), (value.dz, dz)] {
            #expect(abs(ours / theirs - 1) < 1e-5, "\(ours) vs \(theirs)")
        }
    }

    @Test(
        "2F1(1, b; c; z) near z = 1 and at large b and c (the continued fraction) against mpmath, with derivatives",
        arguments: [
            (11.0, 11.3, 0.999, 320.940_874_661_903_105_27, 1_141.262_360_490_508_673_3, -1_132.921_563_506_802_795_3),
            (
                1_001, 1_002.6, 0.999, 466.684_993_321_623_306_28, 176.348_101_772_934_571_66,
                -176.136_756_547_196_689_76
            ),
            (
                10_001, 10_002, 0.999_95, 9_229.856_038_934_498_317_8, 5_906.957_707_682_993_974_2,
                -5_906.573_385_027_114_134_9
            ),
            (1.6, 3.5, 0.95, 2.271_588_774_451_323_130_4, 1.623_279_828_226_035_878_9, -0.923_751_287_999_940_615_02),
            (0.6, 1.2, 0.97, 5.087_944_855_944_329_267_2, 15.166_903_945_179_657_816, -10.538_350_855_060_236_91),
            (2.5, 2.6, 0.92, 10.766_976_657_333_854_054, 15.847_126_470_986_551_183, -15.502_615_086_545_096_256),
        ]
    )
    func hypergeometricUnitANearOne(b: Double, c: Double, z: Double, expected: Double, db: Double, dc: Double) {
        // z = 1 − 1 / (2c) at c = 10⁴ would take the series some 700,000 terms; the fraction a few hundred steps.
        let value = SpecialFunctions.hypergeometric2F1UnitA(b, c, z)
        #expect(abs(value.value / expected - 1) < 1e-11, "got \(value.value)")
        #expect(abs(value.db / db - 1) < 1e-9, "∂b: \(value.db) vs \(db)")
        #expect(abs(value.dc / dc - 1) < 1e-9, "∂c: \(value.dc) vs \(dc)")
        // ∂z in closed form against central differences of the value.
        let h = 1e-6 * (1 - z)
        let dz =
            (SpecialFunctions.hypergeometric2F1UnitA(b, c, z + h).value
                - SpecialFunctions.hypergeometric2F1UnitA(b, c, z - h).value) / (2 * h)
        #expect(abs(value.dz / dz - 1) < 1e-5, "∂z: \(value.dz) vs \(dz)")
        // Where both converge, the series and the fraction agree.
        if c < 20 {
            let series = SpecialFunctions.hypergeometric2F1(1, b, c, z)
            #expect(abs(value.value / series - 1) < 1e-11)
        }
    }

    @Test(
        "digamma against known values",
        arguments: [
            (1.0, -0.577_215_664_901_532_860_61),  // −γ
            (0.5, -1.963_510_026_021_423_479_4),  // −γ − 2 ln 2
            (0.243, -4.351_093_864_423_210_616),
            (10.0, 2.251_752_589_066_721_107_6),
            (1_000.5, 6.907_755_320_648_796_427),
            (-0.5, 0.036_489_973_978_576_520_559),  // reflection
        ]
    )
    func digamma(x: Double, expected: Double) {
        #expect(abs(SpecialFunctions.digamma(x) - expected) < 1e-13 * max(1, abs(expected)))
    }
}
