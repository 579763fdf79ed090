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
