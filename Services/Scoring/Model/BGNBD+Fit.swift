import CRMSupport
import Foundation

extension BGNBD {
    /// Maximum-likelihood fit to customers' summaries, all in one time unit (lifetimes' `BetaGeoFitter.fit`).
    ///
    /// Identical (x, t_x, T) are merged first, so the cost of each likelihood pass grows with the distinct
    /// histories, not the customers. The search runs BFGS with analytic gradients on ln(r, α, a, b), each
    /// parameter kept in [e⁻¹⁸, e¹⁸], from three starts scaled to the data; the best optimum wins, with its
    /// standard errors. A base without a repeat purchase is ``ModelFitError/Code/degenerate``.
    public static func fit(_ summaries: some Sequence<TransactionSummary>) throws(ModelFitError) -> ModelFit<BGNBD> {
        try fit(BGNBDSample(summaries))
    }

    /// ``fit(_:)`` on summaries already compressed: the sample the three purchase models share; with a `previous`
    /// fit, searched from it first, with its Hessian where kept (`curvature`; see
    /// ``ModelFit/maximumLikelihood(names:starts:warmStart:warmCurvature:customerCount:totalWeight:box:measuring:_:model:)``).
    static func fit(
        _ sample: BGNBDSample,
        from previous: BGNBD? = nil,
        curvature: [Double]? = nil,
        measuring: Bool = true
    ) throws(ModelFitError) -> ModelFit<BGNBD> {
        // Starts around r / α = the observed repeat rate, which fixes the time scale whatever the unit.
        let rate = sample.repeatRate
        let starts = [(1.0, 1.0, 1.0), (0.5, 0.5, 2.0), (2.0, 2.0, 5.0)].map { r, a, b in
            [log(r), log(r / rate), log(a), log(b)]
        }
        return try ModelFit.maximumLikelihood(
            names: ["r", "alpha", "a", "b"],
            starts: starts,
            warmStart: previous.flatMap { $0.isValid ? $0.logParameters : nil },
            warmCurvature: curvature,
            customerCount: sample.customerCount,
            totalWeight: sample.totalWeight,
            measuring: measuring,
            sample.negativeLogLikelihood
        ) { BGNBD(r: $0[0], alpha: $0[1], a: $0[2], b: $0[3]) }
    }
}

/// Summaries compressed for the likelihoods of the purchase models (BG/NBD, MBG/NBD, Pareto/NBD): identical
/// (x, t_x, T) merged into one weighted row, and the distinct values of x, t_x and T listed once, so their
/// logarithms cost one call per value, not per customer.
struct BGNBDSample {
    struct Row {
        var frequency: Int32
        var recency: Int32
        var age: Int32
        var weight: Double
    }

    /// Distinct x, their customer counts, and the distinct t_x and T; rows index into them.
    private(set) var frequencies: [Int] = []
    private(set) var frequencyWeights: [Double] = []
    private(set) var recencies: [Double] = []
    private(set) var ages: [Double] = []
    private(set) var rows: [Row] = []
    private(set) var customerCount = 0

    var totalWeight: Double { Double(customerCount) }

    /// Repeat purchases per unit of observed time; the unit's scale for the starting points.
    private(set) var repeatRate = 1.0

    init(_ summaries: some Sequence<TransactionSummary>) throws(ModelFitError) {
        var frequencyIndex: [Int: Int32] = [:]
        var recencyIndex: [Double: Int32] = [:]
        var ageIndex: [Double: Int32] = [:]
        var repeats = 0.0
        var exposure = 0.0
        // Each customer as the positions of its x, t_x and T among the distinct values: a few hundred or thousand
        // values each, so these lookups stay in cache where a table of whole histories would not.
        var histories: [Row] = []
        histories.reserveCapacity(summaries.underestimatedCount)
        for summary in summaries {
            guard summary.isValid else { throw ModelFitError(.invalidSummary, index: customerCount) }
            customerCount += 1
            repeats += Double(summary.frequency)
            exposure += summary.age
            histories.append(
                Row(
                    frequency: Self.index(of: summary.frequency, in: &frequencies, &frequencyIndex),
                    recency: Self.index(of: summary.recency, in: &recencies, &recencyIndex),
                    age: Self.index(of: summary.age, in: &ages, &ageIndex),
                    weight: 1
                )
            )
        }
        guard customerCount > 0 else { throw ModelFitError(.noCustomers) }
        // Without a repeat purchase every model's likelihood rises towards a bound (no purchase rate, or no
        // dropout, can be told from the data), and a base all of age 0 has a flat one.
        guard repeats > 0 else { throw ModelFitError(.degenerate) }
        // Identical histories made adjacent by a sort, then merged into one row per run weighted by its length.
        histories.sort { ($0.frequency, $0.recency, $0.age) < ($1.frequency, $1.recency, $1.age) }
        for history in histories {
            if let last = rows.last,
                (last.frequency, last.recency, last.age) == (history.frequency, history.recency, history.age)
            {
                rows[rows.count - 1].weight += 1
            } else {
                rows.append(history)
            }
        }
        frequencyWeights = Array(repeating: 0, count: frequencies.count)
        for row in rows { frequencyWeights[Int(row.frequency)] += row.weight }
        if repeats > 0, exposure > 0 { repeatRate = repeats / exposure }
    }

    private static func index<Value: Hashable>(
        of value: Value,
        in values: inout [Value],
        _ indices: inout [Value: Int32]
    ) -> Int32 {
        if let index = indices[value] { return index }
        let index = Int32(values.count)
        values.append(value)
        indices[value] = index
        return index
    }
}

// MARK: - Likelihood

extension BGNBDSample {
    /// Mean negative log-likelihood per customer at ln(r, α, a, b), with its gradient in those logs.
    ///
    /// Per customer, ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b) + ln(e^A₃ + [x>0] e^A₄), with
    /// A₃ = −(r+x) ln(α+T) and A₄ = ln(a / (b+x−1)) − (r+x) ln(α+t_x) (lifetimes' form). The gamma-function
    /// terms depend on x alone and are summed per distinct x; the sum of exponentials goes through log-sum-exp.
    func negativeLogLikelihood(_ logParameters: [Double], _ gradient: inout [Double]) -> Double {
        let (r, alpha, a, b) = (
            exp(logParameters[0]), exp(logParameters[1]), exp(logParameters[2]), exp(logParameters[3])
        )
        var logLikelihood = totalWeight * r * log(alpha)
        var dr = totalWeight * log(alpha)
        var dalpha = totalWeight * r / alpha
        var da = 0.0
        var db = 0.0

        // Terms of each distinct x: the gamma functions, and what the rows below need.
        let (lgammaR, lgammaB, lgammaAB) = (
            SpecialFunctions.logGamma(r), SpecialFunctions.logGamma(b), SpecialFunctions.logGamma(a + b)
        )
        let (digammaR, digammaB, digammaAB) = (
            SpecialFunctions.digamma(r), SpecialFunctions.digamma(b), SpecialFunctions.digamma(a + b)
        )
        for (i, x) in frequencies.enumerated() {
            let (n, weight) = (Double(x), frequencyWeights[i])
            let digammaABX = SpecialFunctions.digamma(a + b + n)
            logLikelihood +=
                weight
                * (SpecialFunctions.logGamma(r + n) - lgammaR + lgammaAB + SpecialFunctions.logGamma(b + n) - lgammaB
                    - SpecialFunctions.logGamma(a + b + n))
            dr += weight * (SpecialFunctions.digamma(r + n) - digammaR)
            da += weight * (digammaAB - digammaABX)
            db += weight * (digammaAB + SpecialFunctions.digamma(b + n) - digammaB - digammaABX)
        }
        let inverseBX = frequencies.map { $0 > 0 ? 1 / (b + Double($0) - 1) : 0 }
        let logDropoutOdds = zip(frequencies, inverseBX).map { x, inverse in x > 0 ? log(a * inverse) : 0 }
        let logAlphaT = ages.map { log(alpha + $0) }
        let inverseAlphaT = ages.map { 1 / (alpha + $0) }
        let logAlphaTx = recencies.map { log(alpha + $0) }
        let inverseAlphaTx = recencies.map { 1 / (alpha + $0) }

        // The rows, nearly all of the work, in chunks over the cores; each chunk's sums are added in chunk order.
        let partials = ParallelChunks.map(count: rows.count, chunk: Self.rowsPerChunk) { chunk in
            var sums = RowSums()
            for row in rows[chunk] {
                let (i, w) = (Int(row.frequency), row.weight)
                let k = r + Double(frequencies[i])
                let (age, recency) = (Int(row.age), Int(row.recency))
                let alive = -k * logAlphaT[age]
                guard frequencies[i] > 0 else {
                    sums.logLikelihood += w * alive
                    sums.dr -= w * logAlphaT[age]
                    sums.dalpha -= w * k * inverseAlphaT[age]
                    continue
                }
                let dead = logDropoutOdds[i] - k * logAlphaTx[recency]
                // ln(e^alive + e^dead) = max + ln(1 + e^−|alive−dead|); π are the two terms' shares of the sum.
                let e = exp(-abs(alive - dead))
                let (piAlive, piDead) = alive >= dead ? (1 / (1 + e), e / (1 + e)) : (e / (1 + e), 1 / (1 + e))
                sums.logLikelihood += w * (max(alive, dead) + log1p(e))
                sums.dr -= w * (piAlive * logAlphaT[age] + piDead * logAlphaTx[recency])
                sums.dalpha -= w * k * (piAlive * inverseAlphaT[age] + piDead * inverseAlphaTx[recency])
                sums.dropoutWeight += w * piDead
                sums.db -= w * piDead * inverseBX[i]
            }
            return sums
        }
        var dropoutWeight = 0.0  // Σ w·π₄, for ∂/∂a
        for sums in partials {
            logLikelihood += sums.logLikelihood
            dr += sums.dr
            dalpha += sums.dalpha
            dropoutWeight += sums.dropoutWeight
            db += sums.db
        }
        da += dropoutWeight / a

        // d/d ln θ = θ · d/dθ; negated and per customer to match the returned value.
        let scale = -1 / totalWeight
        gradient[0] = scale * r * dr
        gradient[1] = scale * alpha * dalpha
        gradient[2] = scale * a * da
        gradient[3] = scale * b * db
        return scale * logLikelihood
    }

    /// Rows per chunk of a likelihood pass: big enough that a chunk costs far more than handing it to a core.
    static let rowsPerChunk = 8_192

    /// `body` of each chunk of at most `chunk` ``rows``, on all cores, results in chunk order: the pass of any of
    /// the models' likelihoods, whose sums then come out the same to the last bit whatever the number of cores.
    func mapRowChunks<Result>(
        chunk: Int = rowsPerChunk,
        _ body: @Sendable (ArraySlice<Row>) -> Result
    ) -> [Result] {
        ParallelChunks.map(count: rows.count, chunk: chunk) { body(rows[$0]) }
    }

    /// One chunk's share of the likelihood and of its derivatives.
    private struct RowSums {
        var logLikelihood = 0.0
        var dr = 0.0
        var dalpha = 0.0
        var dropoutWeight = 0.0
        var db = 0.0
    }
}
