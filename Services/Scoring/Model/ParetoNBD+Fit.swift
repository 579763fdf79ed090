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

    /// ``fit(_:)`` on summaries already compressed: the sample the three purchase models share; with a `previous`
    /// fit, searched from it first, with its Hessian where kept (`curvature`; see
    /// ``ModelFit/maximumLikelihood(names:starts:warmStart:warmCurvature:customerCount:totalWeight:box:measuring:_:model:)``).
    static func fit(
        _ sample: BGNBDSample,
        from previous: ParetoNBD? = nil,
        curvature: [Double]? = nil,
        measuring: Bool = true
    ) throws(ModelFitError) -> ModelFit<ParetoNBD> {
        let pass = ParetoLikelihood(sample)
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
            warmStart: previous.flatMap { $0.isValid ? $0.logParameters : nil },
            warmCurvature: curvature,
            customerCount: sample.customerCount,
            totalWeight: sample.totalWeight,
            box: searchBox,
            measuring: measuring,
            pass.negativeLogLikelihood
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
