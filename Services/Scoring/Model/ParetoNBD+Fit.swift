import Foundation

extension ParetoNBD {
    /// Maximum-likelihood fit to customers' summaries, all in one time unit (lifetimes' `ParetoNBDFitter.fit`),
    /// with the standard errors of the estimates.
    ///
    /// The compressed sample of ``BGNBD/fit(_:)`` (identical (x, t_x, T) merged, so a pass costs one integral
    /// per distinct history), and BFGS on ln(r, α, s, β), each parameter kept in [e⁻¹⁸, e¹⁸], from three starts
    /// scaled to the data, with gradients summed alongside the likelihood's series. A base without a repeat
    /// purchase is ``ModelFitError/Code/degenerate``.
    public static func fit(
        _ summaries: some Sequence<TransactionSummary>
    ) throws(ModelFitError) -> ModelFit<ParetoNBD> {
        try fit(BGNBDSample(summaries))
    }

    /// ``fit(_:)`` on summaries already compressed: the sample the three purchase models share.
    static func fit(_ sample: BGNBDSample) throws(ModelFitError) -> ModelFit<ParetoNBD> {
        // Starts around r / α = the observed repeat rate, which fixes the time scale whatever the unit, with β
        // 1, 2 and 1/2 times α: both branches of the integral (α ≤ β and α > β) are tried. (A start with β far
        // above α also lands on the optimum, but through the slow small-u series.)
        let rate = sample.repeatRate
        let starts = [(1.0, 1.0, 1.0), (0.5, 0.5, 2.0), (2.0, 2.0, 0.5)].map { r, s, betaOverAlpha in
            [log(r), log(r / rate), log(s), log(betaOverAlpha * r / rate)]
        }
        return try ModelFit.maximumLikelihood(
            names: ["r", "alpha", "s", "beta"],
            starts: starts,
            customerCount: sample.customerCount,
            totalWeight: sample.totalWeight,
            box: searchBox,
            sample.paretoNegativeLogLikelihood
        ) { ParetoNBD(r: $0[0], alpha: $0[1], s: $0[2], beta: $0[3]) }
    }
}

extension ParetoNBD {
    /// Largest shape r or s the fit tries: 10⁴, a gamma distribution of rates with a coefficient of variation of
    /// 1 %. Where customers' rates show no spread the data can measure (a base whose every customer died long ago
    /// is the usual case), the likelihood keeps rising, ever more slowly, as a shape and its rate grow together
    /// towards rates without heterogeneity; the fit then stops at this bound, at a model whose predictions differ
    /// from that limit by about 10⁻⁴, without standard errors (its Hessian is not an interior optimum's).
    public static let largestShape = 1e4

    /// The box of the search in ln(r, α, s, β): [e⁻¹⁸, e¹⁸] as every model's, with the shapes capped.
    static var searchBox: BoundedBFGS {
        var box = BoundedBFGS.logParameterBox(dimension: 4)
        box.upperBounds[0] = log(largestShape)
        box.upperBounds[2] = log(largestShape)
        return box
    }
}

// MARK: - Likelihood

extension BGNBDSample {
    /// Rows per chunk of a Pareto/NBD pass: each row costs two series, so smaller chunks than BG/NBD's still
    /// outweigh their hand-off, and spread a base of ten thousand distinct histories over the cores.
    static let paretoRowsPerChunk = 1_024

    /// Mean Pareto/NBD negative log-likelihood per customer at ln(r, α, s, β), with its gradient in those logs.
    ///
    /// Per customer, ln L = ln Γ(r+x) − ln Γ(r) + r ln α + s ln β + ln(e^alive + e^dead), with the two terms of
    /// ``ParetoNBD/LikelihoodTerms``. The gamma-function terms depend on x alone and are summed per distinct x;
    /// ln(α + t) and ln(β + t) are taken once per distinct t_x and T.
    func paretoNegativeLogLikelihood(_ logParameters: [Double], _ gradient: inout [Double]) -> Double {
        let model = ParetoNBD(
            r: exp(logParameters[0]),
            alpha: exp(logParameters[1]),
            s: exp(logParameters[2]),
            beta: exp(logParameters[3])
        )
        let (r, alpha, s, beta) = (model.r, model.alpha, model.s, model.beta)
        var logLikelihood = totalWeight * (r * log(alpha) + s * log(beta))
        var (dr, dalpha) = (totalWeight * log(alpha), totalWeight * r / alpha)
        var (ds, dbeta) = (totalWeight * log(beta), totalWeight * s / beta)
        let (lgammaR, digammaR) = (SpecialFunctions.logGamma(r), SpecialFunctions.digamma(r))
        for (i, x) in frequencies.enumerated() {
            logLikelihood += frequencyWeights[i] * (SpecialFunctions.logGamma(r + Double(x)) - lgammaR)
            dr += frequencyWeights[i] * (SpecialFunctions.digamma(r + Double(x)) - digammaR)
        }
        let (logAlphaTx, logBetaTx) = (recencies.map { log(alpha + $0) }, recencies.map { log(beta + $0) })
        let (logAlphaT, logBetaT) = (ages.map { log(alpha + $0) }, ages.map { log(beta + $0) })
        let (frequencies, recencies, ages) = (frequencies, recencies, ages)

        // The rows, nearly all of the work, in chunks over the cores; each chunk's sums are added in chunk order.
        let partials = mapRowChunks(chunk: Self.paretoRowsPerChunk) { rows in
            var sums = (logLikelihood: 0.0, dr: 0.0, dalpha: 0.0, ds: 0.0, dbeta: 0.0)
            for row in rows {
                let (i, recency, age, w) = (Int(row.frequency), Int(row.recency), Int(row.age), row.weight)
                let k = r + Double(frequencies[i])
                let terms = model.likelihoodTerms(
                    x: frequencies[i],
                    tx: recencies[recency],
                    T: ages[age],
                    logAlpha: (logAlphaTx[recency], logAlphaT[age]),
                    logBeta: (logBetaTx[recency], logBetaT[age]),
                    gradient: true
                )
                // ln(e^alive + e^dead), with e^dead = 0 for a purchase at T; π are the two terms' shares of the sum.
                let (alive, dead) = (terms.alive, terms.dead)
                let e = exp(-abs(alive - dead))
                let (piAlive, piDead) = alive >= dead ? (1 / (1 + e), e / (1 + e)) : (e / (1 + e), 1 / (1 + e))
                sums.logLikelihood += w * (max(alive, dead) + log1p(e))
                sums.dr += w * (piDead * terms.deadGradient.r - piAlive * logAlphaT[age])
                sums.dalpha += w * (piDead * terms.deadGradient.alpha - piAlive * k / (alpha + ages[age]))
                sums.ds += w * (piDead * terms.deadGradient.s - piAlive * logBetaT[age])
                sums.dbeta += w * (piDead * terms.deadGradient.beta - piAlive * s / (beta + ages[age]))
            }
            return sums
        }
        for sums in partials {
            logLikelihood += sums.logLikelihood
            dr += sums.dr
            dalpha += sums.dalpha
            ds += sums.ds
            dbeta += sums.dbeta
        }

        // d/d ln θ = θ · d/dθ; negated and per customer to match the returned value.
        let scale = -1 / totalWeight
        gradient[0] = scale * r * dr
        gradient[1] = scale * alpha * dalpha
        gradient[2] = scale * s * ds
        gradient[3] = scale * beta * dbeta
        return scale * logLikelihood
    }
}
