import CRMSupport
import Scoring
import Testing

@Suite("Gamma-Gamma")
struct ModelGammaGammaTests {
    /// Expects `model` within 10⁻⁵ of `reference`, parameter by parameter.
    static func expectClose(_ model: GammaGamma, to reference: GammaGamma) {
        for (ours, theirs) in [(model.p, reference.p), (model.q, reference.q), (model.v, reference.v)] {
            #expect(abs(ours / theirs - 1) < 1e-5, "\(ours) vs lifetimes \(theirs)")
        }
    }

    @Test("fit on the 946 CDNOW repeat buyers reproduces the published p 6.25, q 3.74, v 15.44")
    func cdnowFit() throws {
        let fit = try GammaGamma.fit(CDNOW.sampleSummaries())
        #expect(fit.converged)
        #expect(fit.customerCount == 946)
        #expect(abs(fit.model.p - 6.25) <= 0.01)
        #expect(abs(fit.model.q - 3.74) <= 0.01)
        #expect(abs(fit.model.v - 15.44) <= 0.01)
        // lifetimes 0.11.3 on the same unrounded mean spends.
        Self.expectClose(
            fit.model,
            to: GammaGamma(p: 6.249_572_277_635_424_6, q: 3.744_224_674_758_356_3, v: 15.443_521_018_363_713)
        )
    }

    @Test("fit on lifetimes' rounded summary lands on lifetimes' own optimum")
    func sameOptimumAsLifetimes() throws {
        Self.expectClose(try GammaGamma.fit(CDNOW.publishedTransactionSummaries()).model, to: CDNOW.lifetimesGammaGamma)
    }

    @Test("a fit searched from a nearby previous fit lands on the same optimum in fewer steps")
    func warmStart() throws {
        let summaries = try CDNOW.publishedTransactionSummaries()
        let cold = try GammaGamma.fit(summaries)
        let reference = CDNOW.lifetimesGammaGamma
        let nearby = GammaGamma(p: reference.p * 1.05, q: reference.q * 0.95, v: reference.v * 1.05)
        let warm = try GammaGamma.fit(summaries, from: nearby)
        Self.expectClose(warm.model, to: reference)
        #expect(warm.converged && warm.iterations < cold.iterations, "\(warm.iterations) against \(cold.iterations)")
        // With the curvature of the lifetimes optimum too: fewer steps still, the same optimum.
        let lifetimes = try GammaGamma.fit(summaries, from: reference)
        let curved = try GammaGamma.fit(summaries, from: nearby, curvature: lifetimes.logHessian)
        Self.expectClose(curved.model, to: reference)
        #expect(curved.converged && curved.iterations < warm.iterations, "\(curved.iterations), \(warm.iterations)")
        // A previous fit that is no model is passed over: the cold starts alone.
        let invalid = try GammaGamma.fit(summaries, from: GammaGamma(p: .nan, q: 1, v: 1))
        #expect(invalid.model == cold.model && invalid.iterations == cold.iterations)
    }

    @Test(
        "expected average spend matches lifetimes' conditional_expected_average_profit",
        arguments: [
            (2, 22.35, 24.658_616_19),
            (1, 11.77, 18.911_479_87),
            (0, 0.0, 35.171_002_15),
            (7, 73.74, 71.462_850_8),
        ]
    )
    func expectedSpend(x: Int, monetary: Double, expected: Double) {
        let value = CDNOW.lifetimesGammaGamma.conditionalExpectedAverageSpend(x: x, monetary: monetary)
        #expect(abs(value - expected) < 1e-7)
    }

    @Test("the population mean, and x = 0 ignores the monetary value")
    func populationMean() {
        let model = CDNOW.lifetimesGammaGamma
        #expect(abs(model.meanSpend - model.p * model.v / (model.q - 1)) < 1e-12)
        #expect(model.conditionalExpectedAverageSpend(x: 0, monetary: .nan) == model.meanSpend)
        #expect(GammaGamma(p: 1, q: 0.5, v: 1).meanSpend.isNaN)
    }

    @Test("customers without repeat purchases of value are skipped; none at all is an error")
    func skipsAndErrors() throws {
        let summaries = [
            TransactionSummary(frequency: 0, recency: 0, age: 5),
            TransactionSummary(frequency: 2, recency: 3, age: 5, monetaryValue: 0),
        ]
        #expect(throws: ModelFitError(.noCustomers)) { try GammaGamma.fit(summaries) }
        let withOne = summaries + [TransactionSummary(frequency: 1, recency: 1, age: 5, monetaryValue: 10)]
        #expect(try GammaGamma.fit(withOne).customerCount == 1)
    }
}
