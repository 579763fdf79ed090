import Foundation

extension ModelFit {
    /// The maximum-likelihood fit every model shares: BFGS on ln θ from each start, the best optimum kept, its
    /// parameters checked and their standard errors taken from the same objective.
    ///
    /// `objective` is the mean negative log-likelihood per customer in ln θ, with its gradient, over `totalWeight`
    /// customers; `names` are the parameters' property names in the order of θ, and `model` builds the model from
    /// θ. Parameters that are not finite are an error, never a model: ``ModelFitError/Code/likelihoodNotFinite``.
    static func maximumLikelihood(
        names: [String],
        starts: [[Double]],
        customerCount: Int,
        totalWeight: Double,
        box: BoundedBFGS? = nil,
        _ objective: BoundedBFGS.Objective,
        model: ([Double]) -> Model
    ) throws(ModelFitError) -> ModelFit {
        let box = box ?? BoundedBFGS.logParameterBox(dimension: names.count)
        guard let best = box.minimize(fromEach: starts, objective),
            best.point.allSatisfy({ $0.isFinite })
        else { throw ModelFitError(.likelihoodNotFinite) }
        let errors = StandardErrors.keyed(names, at: best.point, totalWeight: totalWeight, box: box, objective)
        return ModelFit(
            model: model(best.point.map { exp($0) }),
            logLikelihood: -best.value * totalWeight,
            iterations: best.iterations,
            converged: best.converged,
            customerCount: customerCount,
            standardErrors: errors
        )
    }
}
