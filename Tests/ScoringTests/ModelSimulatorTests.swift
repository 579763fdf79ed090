import Foundation
import Testing

@testable import Scoring

@Suite("Simulator")
struct ModelSimulatorTests {
    static let truth = BGNBD(r: 0.25, alpha: 4, a: 0.8, b: 2.5)
    static let spendTruth = GammaGamma(p: 6.25, q: 3.74, v: 15.44)

    /// Customers first buying over 12 weeks and observed to a common date: ages of 27 to 39 weeks in whole
    /// days, like CDNOW's calibration period, and purchase times left continuous, as the model has them.
    /// (Rounding them to days merges the fast buyers' same-day purchases, which biases α up by some 8 %.)
    static func cohort(seed: UInt64, count: Int = 50_000) -> [TransactionSummary] {
        var simulator = BGNBDSimulator(transactions: truth, spend: spendTruth, seed: seed)
        return (0..<count).map { index in simulator.nextSummary(age: Double(189 + index % 85) / 7) }
    }

    @Test("the same seed gives the same customers, another seed others")
    func deterministic() {
        var first = BGNBDSimulator(transactions: Self.truth, spend: Self.spendTruth, seed: 7)
        var second = BGNBDSimulator(transactions: Self.truth, spend: Self.spendTruth, seed: 7)
        var other = BGNBDSimulator(transactions: Self.truth, spend: Self.spendTruth, seed: 8)
        let a = (0..<1_000).map { _ in first.nextSummary(age: 39) }
        let b = (0..<1_000).map { _ in second.nextSummary(age: 39) }
        let c = (0..<1_000).map { _ in other.nextSummary(age: 39) }
        #expect(a == b)
        #expect(a != c)
    }

    @Test("gamma and beta variates have the right mean and variance")
    func variates() {
        var random = Xoshiro256(seed: 1)
        let n = 200_000
        for shape in [0.25, 1, 3.7] {
            let draws = (0..<n).map { _ in random.nextGamma(shape: shape) }
            let (mean, variance) = Self.moments(draws)
            // Gamma(k, 1) has mean k and variance k. The mean is held to 5 standard errors; the variance to 5 %,
            // over 4 standard errors of its estimate (relative error √((2 + 6/k) / n)) even at k = 0.25.
            #expect(abs(mean - shape) < 5 * (shape / Double(n)).squareRoot(), "mean of Gamma(\(shape))")
            #expect(abs(variance / shape - 1) < 0.05, "variance of Gamma(\(shape))")
        }
        let draws = (0..<n).map { _ in random.nextBeta(0.8, 2.5) }
        let (mean, variance) = Self.moments(draws)
        let expectedVariance = 0.8 * 2.5 / (3.3 * 3.3 * 4.3)
        #expect(abs(mean - 0.8 / 3.3) < 5 * (expectedVariance / Double(n)).squareRoot())
        #expect(abs(variance / expectedVariance - 1) < 0.03)
    }

    @Test("simulated purchases and spend average what the closed forms predict")
    func meansMatchModel() {
        var simulator = BGNBDSimulator(transactions: Self.truth, spend: Self.spendTruth, seed: 11)
        var purchases: [BGNBDSimulator.Purchase] = []
        var frequencies: [Double] = []
        var amounts: [Double] = []
        var inconsistent = 0  // customers whose purchases do not match their summary
        for _ in 0..<50_000 {
            let summary = simulator.nextCustomer(age: 39, purchases: &purchases)
            frequencies.append(Double(summary.frequency))
            amounts.append(contentsOf: purchases.map(\.amount))
            let repeats = purchases.dropFirst()
            if purchases.first?.time != 0 || repeats.count != summary.frequency
                || (repeats.last?.time ?? 0) != summary.recency
            {
                inconsistent += 1
            }
        }
        #expect(inconsistent == 0)
        let (meanFrequency, varianceFrequency) = Self.moments(frequencies)
        let standardError = (varianceFrequency / Double(frequencies.count)).squareRoot()
        #expect(abs(meanFrequency - Self.truth.expectedPurchases(t: 39)) < 4 * standardError)
        // Transaction values are correlated within a customer, so this mean is looser than its naive error.
        #expect(abs(Self.moments(amounts).mean / Self.spendTruth.meanSpend - 1) < 0.02)
    }

    @Test("fitting 50,000 simulated customers recovers r 0.25, α 4, a 0.8, b 2.5 and p 6.25, q 3.74, v 15.44")
    func recoversParameters() throws {
        let summaries = Self.cohort(seed: 2_024)
        let fit = try BGNBD.fit(summaries)
        #expect(fit.converged)
        // Tolerances are about 4 standard errors at this size, measured over seeds: tight enough to catch a
        // rate taken for a scale or a dropout drawn at the wrong moment.
        #expect(abs(fit.model.r / 0.25 - 1) < 0.04)
        #expect(abs(fit.model.alpha / 4 - 1) < 0.06)
        #expect(abs(fit.model.a / 0.8 - 1) < 0.15)
        #expect(abs(fit.model.b / 2.5 - 1) < 0.2)
        // The optimum beats the truth on its own data: the optimizer did not stop short.
        let sample = try BGNBDSample(summaries)
        var gradient = [Double](repeating: 0, count: 4)
        let atTruth = sample.negativeLogLikelihood([0.25, 4, 0.8, 2.5].map { log($0) }, &gradient)
        #expect(fit.logLikelihood >= -atTruth * sample.totalWeight)

        let spendFit = try GammaGamma.fit(summaries)
        #expect(spendFit.converged)
        #expect(abs(spendFit.model.p / 6.25 - 1) < 0.15)
        #expect(abs(spendFit.model.q / 3.74 - 1) < 0.06)
        #expect(abs(spendFit.model.v / 15.44 - 1) < 0.2)
    }

    static func moments(_ values: [Double]) -> (mean: Double, variance: Double) {
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        return (mean, variance)
    }
}
