import Foundation
import Testing

@testable import Scoring

@Suite("Likelihoods and optimizer")
struct ModelLikelihoodTests {
    /// Central differences of the objective in log-parameter space against the analytic gradient.
    static func checkGradient(
        at logParameters: [Double],
        _ objective: ([Double], inout [Double]) -> Double
    ) {
        var gradient = [Double](repeating: 0, count: logParameters.count)
        _ = objective(logParameters, &gradient)
        var scratch = gradient
        for i in logParameters.indices {
            let h = 1e-5
            var up = logParameters
            var down = logParameters
            up[i] += h
            down[i] -= h
            let numeric = (objective(up, &scratch) - objective(down, &scratch)) / (2 * h)
            #expect(abs(numeric - gradient[i]) < 1e-7 * max(1, abs(gradient[i])), "component \(i)")
        }
    }

    @Test("BG/NBD analytic gradient matches finite differences, near and far from the optimum")
    func bgnbdGradient() throws {
        let sample = try BGNBDSample(CDNOW.sampleSummaries())
        for point in [[0.243, 4.414, 0.793, 2.426], [1, 1, 1, 1], [0.05, 40, 3, 0.5]] {
            Self.checkGradient(at: point.map { log($0) }, sample.negativeLogLikelihood)
        }
    }

    @Test("Gamma-Gamma analytic gradient matches finite differences")
    func gammaGammaGradient() throws {
        let sample = try GammaGammaSample(CDNOW.sampleSummaries())
        for point in [[6.25, 3.74, 15.44], [1, 1, 1], [0.5, 20, 300]] {
            Self.checkGradient(at: point.map { log($0) }, sample.negativeLogLikelihood)
        }
    }

    @Test("compression merges identical histories without changing the likelihood")
    func compression() throws {
        let summaries = try CDNOW.sampleSummaries()
        let sample = try BGNBDSample(summaries)
        #expect(sample.customerCount == 2_357)
        #expect(sample.rows.count < 2_357)
        #expect(sample.rows.reduce(0) { $0 + $1.weight } == 2_357)
        // Twice the customers, the same mean likelihood.
        let doubled = try BGNBDSample(summaries + summaries)
        var gradient = [Double](repeating: 0, count: 4)
        let point = [0.243, 4.414, 0.793, 2.426].map { log($0) }
        #expect(doubled.rows.count == sample.rows.count)
        #expect(
            abs(doubled.negativeLogLikelihood(point, &gradient) - sample.negativeLogLikelihood(point, &gradient))
                < 1e-14
        )
    }

    @Test("BFGS finds the minimum of the Rosenbrock valley and respects its box")
    func optimizer() {
        func rosenbrock(_ p: [Double], _ g: inout [Double]) -> Double {
            let (x, y) = (p[0], p[1])
            g[0] = -2 * (1 - x) - 400 * x * (y - x * x)
            g[1] = 200 * (y - x * x)
            return (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x)
        }
        let free = BoundedBFGS(lowerBounds: [-5, -5], upperBounds: [5, 5]).minimize(from: [-1.2, 1], rosenbrock)
        #expect(free.converged)
        #expect(abs(free.point[0] - 1) < 1e-6 && abs(free.point[1] - 1) < 1e-6)
        // With x ≤ 0.5 the minimum sits on the bound, at (0.5, 0.25).
        let boxed = BoundedBFGS(lowerBounds: [-5, -5], upperBounds: [0.5, 5]).minimize(from: [-1.2, 1], rosenbrock)
        #expect(boxed.converged)
        #expect(boxed.point[0] == 0.5 && abs(boxed.point[1] - 0.25) < 1e-6)
    }

    @Test("BFGS started with the inverse Hessian of a steep quadratic takes Newton's step; from the identity, many")
    func knownCurvature() {
        // Curvatures from 10⁶ down to 1, coupled: as a likelihood's in ln θ can be.
        let hessian: [Double] = [
            1e6, 9e3, 0, 0,
            9e3, 1e3, 20, 0,
            0, 20, 10, 2,
            0, 0, 2, 1,
        ]
        let centre = [0.3, -0.2, 1.1, -0.7]
        func quadratic(_ p: [Double], _ g: inout [Double]) -> Double {
            let d = (0..<4).map { p[$0] - centre[$0] }
            for i in 0..<4 { g[i] = (0..<4).reduce(0) { $0 + hessian[i * 4 + $1] * d[$1] } }
            return (0..<4).reduce(0) { $0 + d[$1] * g[$1] } / 2
        }
        let box = BoundedBFGS(lowerBounds: [-5, -5, -5, -5], upperBounds: [5, 5, 5, 5])
        let start = [0.0, 0, 0, 0]
        let plain = box.minimize(from: start, quadratic)
        let inverse = StandardErrors.inverse(hessian, dimension: 4)
        let newton = box.minimize(from: start, inverseHessian: inverse, quadratic)
        #expect(plain.converged && newton.converged)
        #expect(
            newton.iterations <= 2 && plain.iterations > 3 * newton.iterations,
            "\(newton.iterations), \(plain.iterations)"
        )
        for i in 0..<4 { #expect(abs(newton.point[i] - centre[i]) < 1e-9) }
        // A curvature that is no matrix of this size is passed over.
        #expect(box.minimize(from: start, inverseHessian: [1, 0, 0], quadratic).iterations == plain.iterations)
    }
}
