import Foundation

extension MBGNBD {
    /// Maximum-likelihood fit to customers' summaries, all in one time unit (lifetimes' `ModifiedBetaGeoFitter.fit`),
    /// with the standard errors of the estimates.
    ///
    /// The same compressed sample and search as ``BGNBD/fit(_:)``: identical (x, t_x, T) merged first, BFGS with
    /// analytic gradients on ln(r, α, a, b), each parameter kept in [e⁻¹⁸, e¹⁸], from three starts scaled to the
    /// data. A base without a repeat purchase is ``ModelFitError/Code/degenerate``.
    public static func fit(_ summaries: some Sequence<TransactionSummary>) throws(ModelFitError) -> ModelFit<MBGNBD> {
        try fit(BGNBDSample(summaries))
    }

    /// ``fit(_:)`` on summaries already compressed: the sample the three purchase models share; with a `previous`
    /// fit, searched from it first, with its Hessian where kept (`curvature`; see
    /// ``ModelFit/maximumLikelihood(names:starts:warmStart:warmCurvature:customerCount:totalWeight:box:measuring:_:model:)``).
    static func fit(
        _ sample: BGNBDSample,
        from previous: MBGNBD? = nil,
        curvature: [Double]? = nil,
        measuring: Bool = true
    ) throws(ModelFitError) -> ModelFit<MBGNBD> {
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
            sample.modifiedNegativeLogLikelihood
        ) { MBGNBD(r: $0[0], alpha: $0[1], a: $0[2], b: $0[3]) }
    }
}

// MARK: - Likelihood

extension BGNBDSample {
    /// Mean MBG/NBD negative log-likelihood per customer at ln(r, α, a, b), with its gradient in those logs.
    ///
    /// Per customer, ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x+1) − ln B(a, b) + ln(e^A₃ + e^A₄), with
    /// A₃ = −(r+x) ln(α+T) (alive) and A₄ = ln(a / (b+x)) − (r+x) ln(α+t_x) (gone after the last purchase),
    /// lifetimes' form. Unlike BG/NBD's, the second term is there at x = 0 too: t_x = 0 is then the first
    /// purchase, right after which the customer may have dropped out.
    func modifiedNegativeLogLikelihood(_ logParameters: [Double], _ gradient: inout [Double]) -> Double {
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
            let digammaABX = SpecialFunctions.digamma(a + b + n + 1)
            logLikelihood +=
                weight
                * (SpecialFunctions.logGamma(r + n) - lgammaR + lgammaAB + SpecialFunctions.logGamma(b + n + 1)
                    - lgammaB - SpecialFunctions.logGamma(a + b + n + 1))
            dr += weight * (SpecialFunctions.digamma(r + n) - digammaR)
            da += weight * (digammaAB - digammaABX)
            db += weight * (digammaAB + SpecialFunctions.digamma(b + n + 1) - digammaB - digammaABX)
        }
        let inverseBX = frequencies.map { 1 / (b + Double($0)) }
        let logDropoutOdds = inverseBX.map { log(a * $0) }
        let logAlphaT = ages.map { log(alpha + $0) }
        let inverseAlphaT = ages.map { 1 / (alpha + $0) }
        let logAlphaTx = recencies.map { log(alpha + $0) }
        let inverseAlphaTx = recencies.map { 1 / (alpha + $0) }
        let frequencies = frequencies

        // The rows, nearly all of the work, in chunks over the cores; each chunk's sums are added in chunk order.
        let partials = mapRowChunks { rows in
            var sums = (logLikelihood: 0.0, dr: 0.0, dalpha: 0.0, dropoutWeight: 0.0, db: 0.0)
            for row in rows {
                let (i, w) = (Int(row.frequency), row.weight)
                let k = r + Double(frequencies[i])
                let (age, recency) = (Int(row.age), Int(row.recency))
                let alive = -k * logAlphaT[age]
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
}
