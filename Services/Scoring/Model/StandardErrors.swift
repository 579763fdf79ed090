import Foundation

/// Asymptotic standard errors of maximum-likelihood estimates, from the observed information: the Hessian of the
/// total negative log-likelihood at the estimates, inverted, gives their covariance; its diagonal, their variances.
///
/// The models are fitted on ln θ with the mean negative log-likelihood per customer and its gradient, so the
/// Hessian is taken there, by central differences of that gradient with one step in ln θ for every parameter: a
/// step scaled to each parameter, and differences of a gradient lose half the digits that second differences of
/// values would. It is then carried to θ exactly: with g and H the gradient and Hessian in ln θ,
/// ∂²f / ∂θᵢ∂θⱼ = (Hᵢⱼ − δᵢⱼ gᵢ) / (θᵢ θⱼ), the gᵢ term vanishing at an interior optimum. lifetimes' `summary`
/// does the same through the delta method (θᵢ² (H⁻¹)ᵢᵢ / N), which agrees at the optimum.
enum StandardErrors {
    /// Step in ln θ of the central differences: θ moves by 0.01 %. The gradients are exact to about 10⁻¹⁴, so the
    /// rounding error (10⁻¹⁰) and the truncation error (h² f''' / 6, about 10⁻⁹ of the entry) both stay small.
    static let logStep = 1e-4

    /// Standard errors of the parameters exp(`logParameters`), keyed by `names` in order; nil when the point sits
    /// on a bound of `box` (no interior optimum, no asymptotic normality) or the Hessian is not positive definite.
    ///
    /// `objective` is the mean negative log-likelihood per customer in ln θ with its gradient, as the fit
    /// minimised it, and `totalWeight` the number of customers the mean is over.
    static func keyed(
        _ names: [String],
        at logParameters: [Double],
        totalWeight: Double,
        box: BoundedBFGS,
        _ objective: BoundedBFGS.Objective
    ) -> [String: Double]? {
        measured(names, at: logParameters, totalWeight: totalWeight, box: box, objective).errors
    }

    /// ``keyed(_:at:totalWeight:box:_:)``, and the Hessian in ln θ they come from (row-major; nil on a bound of
    /// `box`, where it is not taken).
    static func measured(
        _ names: [String],
        at logParameters: [Double],
        totalWeight: Double,
        box: BoundedBFGS,
        _ objective: BoundedBFGS.Objective
    ) -> (errors: [String: Double]?, logHessian: [Double]?) {
        let interior = logParameters.indices.allSatisfy {
            logParameters[$0] > box.lowerBounds[$0] && logParameters[$0] < box.upperBounds[$0]
        }
        guard interior else { return (nil, nil) }
        let (logHessian, gradient) = hessian(at: logParameters, objective)
        let errors = standardErrors(
            at: logParameters,
            logHessian: logHessian,
            gradient: gradient,
            totalWeight: totalWeight
        )
        return (errors.map { Dictionary(uniqueKeysWithValues: zip(names, $0)) }, logHessian)
    }

    /// Standard errors of exp(`logParameters`) in order from the mean objective's Hessian and gradient in ln θ
    /// there, or nil when the Hessian is not positive definite.
    private static func standardErrors(
        at logParameters: [Double],
        logHessian: [Double],
        gradient: [Double],
        totalWeight: Double
    ) -> [Double]? {
        let n = logParameters.count
        let theta = logParameters.map { exp($0) }
        // The total Hessian in θ, from the mean one in ln θ (see the type's notes).
        var information = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                let curvature = logHessian[i * n + j] - (i == j ? gradient[i] : 0)
                information[i * n + j] = totalWeight * curvature / (theta[i] * theta[j])
            }
        }
        return inverseDiagonal(information, dimension: n)?.map { $0.squareRoot() }
    }

    /// The Hessian of `objective` at `point` (row-major, symmetrised) and its gradient there.
    static func hessian(
        at point: [Double],
        _ objective: BoundedBFGS.Objective
    ) -> (hessian: [Double], gradient: [Double]) {
        let n = point.count
        var gradient = [Double](repeating: 0, count: n)
        _ = objective(point, &gradient)
        var up = gradient
        var down = gradient
        var hessian = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            var shifted = point
            shifted[j] = point[j] + logStep
            _ = objective(shifted, &up)
            shifted[j] = point[j] - logStep
            _ = objective(shifted, &down)
            for i in 0..<n { hessian[i * n + j] = (up[i] - down[i]) / (2 * logStep) }
        }
        // The differences leave the two halves unequal by rounding; the mean is the better estimate of each.
        for i in 0..<n {
            for j in 0..<i {
                let mean = (hessian[i * n + j] + hessian[j * n + i]) / 2
                (hessian[i * n + j], hessian[j * n + i]) = (mean, mean)
            }
        }
        return (hessian, gradient)
    }

    /// The diagonal of the inverse of a symmetric matrix (row-major); nil unless the matrix is positive definite.
    static func inverseDiagonal(_ matrix: [Double], dimension n: Int) -> [Double]? {
        inverse(matrix, dimension: n).map { inverse in (0..<n).map { inverse[$0 * n + $0] } }
    }

    /// The inverse of a symmetric matrix (row-major), by Cholesky: A = L Lᵀ gives A⁻¹ = L⁻ᵀ L⁻¹, so
    /// (A⁻¹)ᵢⱼ = Σₖ (L⁻¹)ₖᵢ (L⁻¹)ₖⱼ. Nil when a pivot is not positive and finite, i.e. A is not positive definite.
    static func inverse(_ matrix: [Double], dimension n: Int) -> [Double]? {
        guard matrix.count == n * n else { return nil }
        var lower = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var sum = matrix[i * n + j]
                for k in 0..<j { sum -= lower[i * n + k] * lower[j * n + k] }
                if i == j {
                    guard sum > 0, sum.isFinite else { return nil }
                    lower[i * n + i] = sum.squareRoot()
                } else {
                    lower[i * n + j] = sum / lower[j * n + j]
                }
            }
        }
        // L⁻¹ column by column, by forward substitution on the unit vectors: row k of column c in lowerInverse[k][c].
        var lowerInverse = [Double](repeating: 0, count: n * n)
        for column in 0..<n {
            for i in column..<n {
                var sum = i == column ? 1.0 : 0.0
                for k in column..<i { sum -= lower[i * n + k] * lowerInverse[k * n + column] }
                lowerInverse[i * n + column] = sum / lower[i * n + i]
            }
        }
        var inverse = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                inverse[i * n + j] = (0..<n).reduce(0) { $0 + lowerInverse[$1 * n + i] * lowerInverse[$1 * n + j] }
            }
        }
        return inverse
    }
}
