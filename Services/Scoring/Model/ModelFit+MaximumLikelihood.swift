import Foundation

extension ModelFit {
    /// The maximum-likelihood fit every model shares: BFGS on ln θ from each start, the best optimum kept, its
    /// parameters checked and their standard errors taken from the same objective.
    ///
    /// `objective` is the mean negative log-likelihood per customer in ln θ, with its gradient, over `totalWeight`
    /// customers; `names` are the parameters' property names in the order of θ, and `model` builds the model from
    /// θ. Parameters that are not finite are an error, never a model: ``ModelFitError/Code/likelihoodNotFinite``.
    ///
    /// With a `warmStart` (the previous fit's θ, in ln θ), that start is searched alone first, and when it
    /// converges inside the box its optimum is the fit: a base that changed a little since has its optimum a few
    /// steps away, where three cold starts take dozens each. Otherwise every start is searched, the warm one too.
    /// With the previous fit's Hessian there (`warmCurvature`, ``ModelFit/logHessian``), that search starts from
    /// its inverse rather than from a scaled identity: its first step is Newton's, and a day's change of a base of
    /// a million customers is found in a few steps instead of as many as a cold start takes (the curvature in ln θ
    /// differs by orders of magnitude between parameters, which an identity has to learn step by step). Without
    /// `measuring`, the fit has neither standard errors nor Hessian: a caller in a hurry for the parameters takes
    /// them later by a search from the optimum, which ends where it starts.
    static func maximumLikelihood(
        names: [String],
        starts: [[Double]],
        warmStart: [Double]? = nil,
        warmCurvature: [Double]? = nil,
        customerCount: Int,
        totalWeight: Double,
        box: BoundedBFGS? = nil,
        measuring: Bool = true,
        _ objective: BoundedBFGS.Objective,
        model: ([Double]) -> Model
    ) throws(ModelFitError) -> ModelFit {
        let box = box ?? BoundedBFGS.logParameterBox(dimension: names.count)
        var warm: BoundedBFGS.Result?
        if let warmStart, warmStart.count == names.count, warmStart.allSatisfy({ $0.isFinite }) {
            let inverseHessian = warmCurvature.flatMap { StandardErrors.inverse($0, dimension: names.count) }
            warm = box.minimize(from: warmStart, inverseHessian: inverseHessian, objective)
        }
        let interior = { (point: [Double]) in
            point.indices.allSatisfy { point[$0] > box.lowerBounds[$0] && point[$0] < box.upperBounds[$0] }
        }
        let best: BoundedBFGS.Result?
        if let warm, warm.converged, warm.value.isFinite, interior(warm.point) {
            best = warm
        } else {
            let cold = box.minimize(fromEach: starts, objective)
            best = [cold, warm].compactMap { $0 }.filter { $0.value.isFinite }.min { $0.value < $1.value }
        }
        guard let best, best.point.allSatisfy({ $0.isFinite }) else { throw ModelFitError(.likelihoodNotFinite) }
        // The standard errors' Hessian costs twice a pass per parameter: as much as a few steps of a warm search.
        let measured =
            measuring
            ? StandardErrors.measured(names, at: best.point, totalWeight: totalWeight, box: box, objective)
            : (errors: nil, logHessian: nil)
        return ModelFit(
            model: model(best.point.map { exp($0) }),
            logLikelihood: -best.value * totalWeight,
            iterations: best.iterations,
            converged: best.converged,
            customerCount: customerCount,
            standardErrors: measured.errors,
            logHessian: measured.logHessian
        )
    }
}
