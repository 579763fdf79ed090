import Foundation
import Testing

@testable import Scoring

@Suite("Standard errors")
struct ModelStandardErrorsTests {
    /// Our standard errors against a reference, each within `tolerance` of it (relative).
    static func expectClose(
        _ errors: [String: Double]?,
        _ reference: [String: Double],
        tolerance: Double,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let errors else {
            Issue.record("no standard errors", sourceLocation: sourceLocation)
            return
        }
        #expect(Set(errors.keys) == Set(reference.keys), sourceLocation: sourceLocation)
        for (name, expected) in reference {
            let ours = errors[name] ?? .nan
            let message: Comment = "\(name): \(ours) vs \(expected)"
            #expect(abs(ours / expected - 1) < tolerance, message, sourceLocation: sourceLocation)
        }
    }

    // The references for BG/NBD, MBG/NBD and Gamma-Gamma are the 'se(coef)' column of lifetimes 0.11.3's
    // `fitter.summary` on the CDNOW sample's unrounded summaries (days / 7): the inverse Hessian of its negative
    // log-likelihood in ln θ, carried to θ by the delta method.

    @Test("BG/NBD on the CDNOW sample: lifetimes' se(coef)")
    func bgnbd() throws {
        let reference = [
            "r": 0.012_557_379_181, "alpha": 0.378_224_101_265, "a": 0.185_733_749_697, "b": 0.705_413_849_677,
        ]
        Self.expectClose(try CDNOW.fittedBGNBD.get().standardErrors, reference, tolerance: 1e-3)
    }

    @Test("MBG/NBD on the CDNOW sample: lifetimes' se(coef)")
    func mbgnbd() throws {
        let reference = [
            "r": 0.083_268_088_679, "alpha": 0.695_619_909_036, "a": 0.154_789_938_017, "b": 0.537_494_793_956,
        ]
        Self.expectClose(try CDNOW.fittedMBGNBD.get().standardErrors, reference, tolerance: 1e-3)
    }

    @Test("Gamma-Gamma on the CDNOW sample's repeat buyers: lifetimes' se(coef)")
    func gammaGamma() throws {
        let reference = ["p": 1.190_055_346_399, "q": 0.290_133_067_594, "v": 4.159_422_802_212]
        Self.expectClose(try GammaGamma.fit(CDNOW.sampleSummaries()).standardErrors, reference, tolerance: 1e-3)
    }

    @Test("Pareto/NBD on the CDNOW sample: the Hessian of lifetimes' own likelihood")
    func paretoNBD() throws {
        // lifetimes keeps no Hessian for Pareto/NBD (its summary has no standard errors), so the reference is
        // central second differences (steps of 10⁻⁴ θ) of its `_negative_log_likelihood` at the optimum.
        let reference = [
            "r": 0.047_627_803_412_704_645, "alpha": 0.842_721_253_952_081, "s": 0.187_279_444_134_437_28,
            "beta": 6.211_048_726_412_195,
        ]
        Self.expectClose(try CDNOW.fittedParetoNBD.get().standardErrors, reference, tolerance: 0.01)
    }

    @Test("the inverse's diagonal of a known matrix; none for a matrix that is not positive definite")
    func inverseDiagonal() throws {
        // [[4, 2, 0], [2, 3, 1], [0, 1, 2]] has determinant 12 and inverse diagonal (5, 8, 8) / 12.
        let diagonal = try #require(StandardErrors.inverseDiagonal([4, 2, 0, 2, 3, 1, 0, 1, 2], dimension: 3))
        for (ours, expected) in zip(diagonal, [5.0 / 12, 8.0 / 12, 8.0 / 12]) {
            #expect(abs(ours - expected) < 1e-15)
        }
        #expect(StandardErrors.inverseDiagonal([1, 2, 2, 1], dimension: 2) == nil)  // eigenvalues 3 and −1
        #expect(StandardErrors.inverseDiagonal([0, 0, 0, 1], dimension: 2) == nil)
        #expect(StandardErrors.inverseDiagonal([.nan, 0, 0, 1], dimension: 2) == nil)
    }

    @Test("the inverse of a known matrix times the matrix is the identity; none for one not positive definite")
    func inverse() throws {
        let matrix = [4.0, 2, 0, 2, 3, 1, 0, 1, 2]
        let inverse = try #require(StandardErrors.inverse(matrix, dimension: 3))
        // [[4, 2, 0], [2, 3, 1], [0, 1, 2]]⁻¹ = [[5, −4, 2], [−4, 8, −4], [2, −4, 8]] / 12.
        for (ours, expected) in zip(inverse, [5.0, -4, 2, -4, 8, -4, 2, -4, 8].map { $0 / 12 }) {
            #expect(abs(ours - expected) < 1e-15)
        }
        for i in 0..<3 {
            for j in 0..<3 {
                let product = (0..<3).reduce(0.0) { $0 + inverse[i * 3 + $1] * matrix[$1 * 3 + j] }
                #expect(abs(product - (i == j ? 1 : 0)) < 1e-15)
            }
        }
        #expect(StandardErrors.inverse([1, 2, 2, 1], dimension: 2) == nil)
        #expect(StandardErrors.inverse([1, 0, 0], dimension: 2) == nil)  // not 2 × 2
    }

    @Test("the quadratic's standard errors are exact; a point on a bound of the box has none")
    func quadratic() throws {
        // f(ln θ) = Σ (θᵢ − cᵢ)² / (2 σᵢ² N): a normal likelihood, whose standard errors are σ whatever N.
        let (centre, sigma, weight) = ([2.0, 0.5], [0.3, 0.01], 1_000.0)
        func objective(_ point: [Double], _ gradient: inout [Double]) -> Double {
            var value = 0.0
            for i in point.indices {
                let theta = exp(point[i])
                value += (theta - centre[i]) * (theta - centre[i]) / (2 * sigma[i] * sigma[i] * weight)
                gradient[i] = theta * (theta - centre[i]) / (sigma[i] * sigma[i] * weight)
            }
            return value
        }
        let box = BoundedBFGS.logParameterBox(dimension: 2)
        let point = centre.map { log($0) }
        let errors = StandardErrors.keyed(["a", "b"], at: point, totalWeight: weight, box: box, objective)
        Self.expectClose(errors, ["a": 0.3, "b": 0.01], tolerance: 1e-7)
        #expect(StandardErrors.keyed(["a", "b"], at: [18, log(0.5)], totalWeight: weight, box: box, objective) == nil)
        // The Hessian they come from, in ln θ: at the centre, θᵢ² / (σᵢ² N) on the diagonal.
        let measured = StandardErrors.measured(["a", "b"], at: point, totalWeight: weight, box: box, objective)
        let hessian = try #require(measured.logHessian)
        for i in 0..<2 {
            let expected = centre[i] * centre[i] / (sigma[i] * sigma[i] * weight)
            #expect(abs(hessian[i * 2 + i] / expected - 1) < 1e-7)
            #expect(abs(hessian[i * 2 + 1 - i]) < 1e-9 * expected)
        }
        #expect(
            StandardErrors.measured(["a", "b"], at: [18, 0], totalWeight: weight, box: box, objective) == (nil, nil)
        )
    }

    @Test("a fit built without standard errors has none, as before")
    func defaultNone() {
        let fit = ModelFit(model: 1.0, logLikelihood: 0, iterations: 0, converged: true, customerCount: 1)
        #expect(fit.standardErrors == nil)
    }
}
