import CRMSupport
import Foundation

/// The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee, 2005), as lifetimes' `GammaGammaFitter`.
///
/// A customer's transaction values are Gamma(shape p, rate ν) around their own mean, with ν ~ Gamma(shape q,
/// rate v) across customers and independent of purchase timing. Values are in currency units, and so is v.
public struct GammaGamma: Sendable, Hashable, Codable {
    /// Shape p of the gamma distribution of one customer's transaction values.
    public var p: Double
    /// Shape q of the gamma distribution of the rate ν across customers.
    public var q: Double
    /// Rate v of the gamma distribution of ν, in currency units (lifetimes calls it `v`, the paper γ).
    public var v: Double

    /// A model with the given parameters; see ``isValid``.
    public init(p: Double, q: Double, v: Double) {
        self.p = p
        self.q = q
        self.v = v
    }

    /// Whether every parameter is positive and finite, as the formulas need (check decoded parameters).
    public var isValid: Bool {
        [p, q, v].allSatisfy { $0 > 0 && $0.isFinite }
    }

    /// Mean transaction value across customers, p v / (q − 1), in currency units; NaN unless q > 1.
    public var meanSpend: Double {
        q > 1 ? p * v / (q - 1) : .nan
    }

    /// Expected mean transaction value of a customer whose `x` repeat transactions averaged `monetary`.
    ///
    /// A credibility-weighted mix of the customer's own mean and ``meanSpend``: p (v + x m) / (p x + q − 1);
    /// for x = 0 it is ``meanSpend`` whatever `monetary` is. NaN when p x + q ≤ 1.
    public func conditionalExpectedAverageSpend(x: Int, monetary: Double) -> Double {
        let n = Double(max(x, 0))
        let denominator = p * n + q - 1
        guard denominator > 0 else { return .nan }
        return p * (v + (x > 0 ? n * monetary : 0)) / denominator
    }

    /// ``conditionalExpectedAverageSpend(x:monetary:)`` of a summarised customer.
    public func conditionalExpectedAverageSpend(_ customer: TransactionSummary) -> Double {
        conditionalExpectedAverageSpend(x: customer.frequency, monetary: customer.monetaryValue)
    }
}

// MARK: - Fitting

extension GammaGamma {
    /// Maximum-likelihood fit to the customers with x > 0 and a positive monetary value; the others are skipped
    /// (lifetimes' `GammaGammaFitter.fit` on its usual input).
    ///
    /// Given ν, the mean z̄ of x transaction values is Gamma(shape p x, rate ν x): a customer's mean counts
    /// as x observations. BFGS with analytic gradients on ln(p, q, v), each kept in [e⁻¹⁸, e¹⁸], from three
    /// starts scaled to the mean spend; the best optimum wins, with its standard errors. With a `previous` fit,
    /// searched from it first, with its Hessian where kept (`curvature`; see
    /// ``ModelFit/maximumLikelihood(names:starts:warmStart:warmCurvature:customerCount:totalWeight:box:measuring:_:model:)``).
    public static func fit(
        _ summaries: some Sequence<TransactionSummary>,
        from previous: GammaGamma? = nil,
        curvature: [Double]? = nil,
        measuring: Bool = true
    ) throws(ModelFitError) -> ModelFit<GammaGamma> {
        let sample = try GammaGammaSample(summaries)
        // Starts whose mean spend p v / (q − 1) equals the observed one, which fixes the currency scale.
        let starts = [(1.0, 2.0), (5.0, 3.0), (0.5, 5.0)].map { p, q in
            [log(p), log(q), log(sample.meanSpend * (q - 1) / p)]
        }
        return try ModelFit.maximumLikelihood(
            names: ["p", "q", "v"],
            starts: starts,
            warmStart: previous.flatMap { $0.isValid ? [log($0.p), log($0.q), log($0.v)] : nil },
            warmCurvature: curvature,
            customerCount: sample.customerCount,
            totalWeight: sample.totalWeight,
            measuring: measuring,
            sample.negativeLogLikelihood
        ) { GammaGamma(p: $0[0], q: $0[1], v: $0[2]) }
    }
}

/// Repeat buyers compressed for the Gamma-Gamma likelihood: identical (x, z̄) merged into one weighted row,
/// and the terms that depend on x alone summed per distinct x.
struct GammaGammaSample {
    struct Row {
        var frequency: Int32
        /// x z̄, the customer's total repeat spend.
        var totalSpend: Double
        var weight: Double
    }

    /// Distinct x, their customer counts and their customers' Σ ln z̄; rows index into them.
    private(set) var frequencies: [Int] = []
    private(set) var frequencyWeights: [Double] = []
    private(set) var logSpendSums: [Double] = []
    private(set) var rows: [Row] = []
    private(set) var customerCount = 0
    private(set) var meanSpend = 0.0

    var totalWeight: Double { Double(customerCount) }

    init(_ summaries: some Sequence<TransactionSummary>) throws(ModelFitError) {
        var frequencyIndex: [Int: Int] = [:]
        var spenders: [(frequency: Int32, monetaryValue: Double)] = []
        var index = -1
        for summary in summaries {
            index += 1
            guard summary.isValid else { throw ModelFitError(.invalidSummary, index: index) }
            guard summary.frequency > 0, summary.monetaryValue > 0 else { continue }
            customerCount += 1
            meanSpend += summary.monetaryValue
            let x: Int
            if let known = frequencyIndex[summary.frequency] {
                x = known
            } else {
                x = frequencies.count
                frequencyIndex[summary.frequency] = x
                frequencies.append(summary.frequency)
            }
            spenders.append((Int32(x), summary.monetaryValue))
        }
        // Identical (x, z̄) made adjacent by a sort, then merged into one row per run weighted by its length.
        spenders.sort { ($0.frequency, $0.monetaryValue) < ($1.frequency, $1.monetaryValue) }
        var last: (frequency: Int32, monetaryValue: Double)?
        for spender in spenders {
            if let last, last == spender {
                rows[rows.count - 1].weight += 1
            } else {
                let n = Double(frequencies[Int(spender.frequency)])
                rows.append(Row(frequency: spender.frequency, totalSpend: n * spender.monetaryValue, weight: 1))
            }
            last = spender
        }
        guard customerCount > 0 else { throw ModelFitError(.noCustomers) }
        meanSpend /= Double(customerCount)
        frequencyWeights = Array(repeating: 0, count: frequencies.count)
        logSpendSums = Array(repeating: 0, count: frequencies.count)
        for row in rows {
            let i = Int(row.frequency)
            frequencyWeights[i] += row.weight
            logSpendSums[i] += row.weight * log(row.totalSpend / Double(frequencies[i]))
        }
    }

    /// Mean negative log-likelihood per customer at ln(p, q, v), with its gradient in those logs.
    ///
    /// Per customer, ln L = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln v + (px−1) ln z̄ + px ln x − (px+q) ln(x z̄ + v),
    /// lifetimes' form; all but the last term are summed per distinct x.
    func negativeLogLikelihood(_ logParameters: [Double], _ gradient: inout [Double]) -> Double {
        let (p, q, v) = (exp(logParameters[0]), exp(logParameters[1]), exp(logParameters[2]))
        let (logV, lgammaQ, digammaQ) = (log(v), SpecialFunctions.logGamma(q), SpecialFunctions.digamma(q))
        var logLikelihood = 0.0
        var dp = 0.0
        var dq = 0.0
        var dv = 0.0
        for (i, x) in frequencies.enumerated() {
            let (n, weight) = (Double(x), frequencyWeights[i])
            let (shape, logN) = (p * n, log(n))
            let digammaShapeQ = SpecialFunctions.digamma(shape + q)
            logLikelihood +=
                weight
                * (SpecialFunctions.logGamma(shape + q) - SpecialFunctions.logGamma(shape) - lgammaQ + q * logV
                    + shape * logN) + (shape - 1) * logSpendSums[i]
            dp += n * (weight * (digammaShapeQ - SpecialFunctions.digamma(shape) + logN) + logSpendSums[i])
            dq += weight * (digammaShapeQ - digammaQ + logV)
            dv += weight * q / v
        }
        // The rows in chunks over the cores, their sums added in chunk order (as BG/NBD's).
        let partials = ParallelChunks.map(count: rows.count, chunk: BGNBDSample.rowsPerChunk) { chunk in
            var sums = (logLikelihood: 0.0, dp: 0.0, dq: 0.0, dv: 0.0)
            for row in rows[chunk] {
                let (n, w) = (Double(frequencies[Int(row.frequency)]), row.weight)
                let logTotal = log(row.totalSpend + v)
                sums.logLikelihood -= w * (p * n + q) * logTotal
                sums.dp -= w * n * logTotal
                sums.dq -= w * logTotal
                sums.dv -= w * (p * n + q) / (row.totalSpend + v)
            }
            return sums
        }
        for sums in partials {
            logLikelihood += sums.logLikelihood
            dp += sums.dp
            dq += sums.dq
            dv += sums.dv
        }
        // d/d ln θ = θ · d/dθ; negated and per customer to match the returned value.
        let scale = -1 / totalWeight
        gradient[0] = scale * p * dp
        gradient[1] = scale * q * dq
        gradient[2] = scale * v * dv
        return scale * logLikelihood
    }
}
