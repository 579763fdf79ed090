/// Minimises a smooth function of a few variables inside a box: BFGS with a backtracking (Armijo) line search.
///
/// With analytic gradients this takes a few dozen evaluations where Nelder–Mead takes hundreds, and each
/// evaluation is a pass over the data. The box is kept by projection: a trial point is clamped into it, and
/// a coordinate held at a bound by a gradient pointing outwards is frozen (its projected gradient is 0).
struct BoundedBFGS {
    /// The objective: returns f(point) and writes ∇f(point) into `gradient` (already sized).
    typealias Objective = (_ point: [Double], _ gradient: inout [Double]) -> Double

    struct Result {
        var point: [Double]
        var value: Double
        var iterations: Int
        var converged: Bool
    }

    var lowerBounds: [Double]
    var upperBounds: [Double]
    /// Largest projected-gradient component taken as a minimum.
    var gradientTolerance = 1e-9
    var maximumIterations = 500
    /// Longest move of any coordinate in one step, so an early poor Hessian cannot fling the point away.
    var maximumStep = 2.0
    /// The search stops when the values of the last ``stallWindow`` steps lie within this fraction of the value:
    /// f has stopped moving beyond its own rounding, which a gradient test cannot see where rounding makes the
    /// gradient noisy (a likelihood at the far end of its box). A converging search meets the gradient test first.
    var stallTolerance = 1e-9
    /// Steps the stall test looks back over.
    var stallWindow = 10

    /// The best of the minima reached from each start (lowest finite value).
    func minimize(fromEach starts: [[Double]], _ objective: Objective) -> Result? {
        starts.map { minimize(from: $0, objective) }.filter { $0.value.isFinite }.min { $0.value < $1.value }
    }

    /// The minimum reached from `start`, or the last point when the iteration or line search gives out. The search
    /// starts with `inverseHessian` (row-major, positive definite: a known curvature near `start`) where given, and
    /// otherwise with the identity scaled to the curvature of the first step.
    func minimize(from start: [Double], inverseHessian known: [Double]? = nil, _ objective: Objective) -> Result {
        let n = start.count
        var point = clamped(start)
        var gradient = [Double](repeating: 0, count: n)
        var value = objective(point, &gradient)
        let given = known.flatMap { $0.count == n * n && $0.allSatisfy(\.isFinite) ? $0 : nil }
        var inverseHessian = given ?? Self.identity(n)
        var needsScaling = given == nil
        var iterations = 0
        var recent: [Double] = []

        while value.isFinite, iterations < maximumIterations {
            let projected = projectedGradient(point, gradient)
            if Self.maximumMagnitude(projected) <= gradientTolerance { break }
            iterations += 1

            var direction = Self.product(inverseHessian, projected).map { -$0 }
            for i in 0..<n where projected[i] == 0 { direction[i] = 0 }
            if Self.dot(gradient, direction) >= 0 {
                // Not a descent direction: the curvature estimate has gone stale, so restart from steepest descent.
                inverseHessian = Self.identity(n)
                needsScaling = true
                direction = projected.map { -$0 }
            }
            let longest = Self.maximumMagnitude(direction)
            if longest > maximumStep { direction = direction.map { $0 * maximumStep / longest } }

            guard let step = lineSearch(point, value, gradient, direction, objective) else { break }
            let s = zip(step.point, point).map { $0 - $1 }
            // Curvature is learnt in the free coordinates only: a frozen one's gradient change would corrupt it.
            let y = (0..<n).map { projected[$0] == 0 ? 0 : step.gradient[$0] - gradient[$0] }
            let sy = Self.dot(s, y)
            // Update only with positive curvature, which keeps the inverse Hessian positive definite.
            if sy > 1e-12 * Self.norm(s) * Self.norm(y) {
                if needsScaling {
                    // Scale the initial identity to the observed curvature (Nocedal & Wright, eq. 6.20).
                    let scale = sy / Self.dot(y, y)
                    inverseHessian = inverseHessian.map { $0 * scale }
                    needsScaling = false
                }
                Self.updateBFGS(&inverseHessian, s: s, y: y, sy: sy)
            }
            (point, value, gradient) = (step.point, step.value, step.gradient)
            recent.append(value)
            if recent.count > stallWindow { recent.removeFirst() }
            if recent.count == stallWindow,
                let low = recent.min(), let high = recent.max(), high - low <= stallTolerance * max(abs(value), 1)
            {
                break
            }
        }
        let converged = value.isFinite && Self.maximumMagnitude(projectedGradient(point, gradient)) <= gradientTolerance
        return Result(point: point, value: value, iterations: iterations, converged: converged)
    }

    // MARK: - Steps

    /// Backtracks from the full step until the Armijo condition holds, or, once f is flat to rounding, the
    /// approximate Wolfe condition of Hager & Zhang (2005): near the minimum a decrease of f is lost in the
    /// rounding of a sum over the data, while the slope along the step still says which way is down.
    private func lineSearch(
        _ point: [Double],
        _ value: Double,
        _ gradient: [Double],
        _ direction: [Double],
        _ objective: Objective
    ) -> (point: [Double], value: Double, gradient: [Double])? {
        let (armijo, curvature, noise) = (1e-4, 0.9, 1e-12 * abs(value))
        var trialGradient = gradient
        var length = 1.0
        for _ in 0..<60 {
            let trial = clamped(zip(point, direction).map { $0 + length * $1 })
            let step = zip(trial, point).map { $0 - $1 }
            let slope = Self.dot(gradient, step)
            guard slope < 0 else { return nil }  // the clamped step no longer descends
            let trialValue = objective(trial, &trialGradient)
            if trialValue.isFinite {
                let trialSlope = Self.dot(trialGradient, step)
                let sufficientDecrease = trialValue <= value + armijo * slope
                let approximateWolfe =
                    trialValue <= value + noise && trialSlope <= (2 * armijo - 1) * slope
                    && trialSlope >= curvature * slope
                if sufficientDecrease || approximateWolfe { return (trial, trialValue, trialGradient) }
            }
            length *= 0.5
        }
        return nil
    }

    private func clamped(_ point: [Double]) -> [Double] {
        point.indices.map { min(max(point[$0], lowerBounds[$0]), upperBounds[$0]) }
    }

    /// The gradient with the components that push a coordinate out through its bound set to 0.
    private func projectedGradient(_ point: [Double], _ gradient: [Double]) -> [Double] {
        point.indices.map { i in
            let pinnedLow = point[i] <= lowerBounds[i] && gradient[i] > 0
            let pinnedHigh = point[i] >= upperBounds[i] && gradient[i] < 0
            return pinnedLow || pinnedHigh ? 0 : gradient[i]
        }
    }

    // MARK: - Small dense linear algebra (n ≤ 4, row-major)

    private static func identity(_ n: Int) -> [Double] {
        (0..<n * n).map { $0 / n == $0 % n ? 1 : 0 }
    }

    private static func product(_ matrix: [Double], _ vector: [Double]) -> [Double] {
        let n = vector.count
        return (0..<n).map { row in (0..<n).reduce(0) { $0 + matrix[row * n + $1] * vector[$1] } }
    }

    /// H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ with ρ = 1 / (yᵀs), expanded to avoid matrix products.
    private static func updateBFGS(_ h: inout [Double], s: [Double], y: [Double], sy: Double) {
        let n = s.count
        let hy = product(h, y)
        let yhy = dot(y, hy)
        for i in 0..<n {
            for j in 0..<n {
                h[i * n + j] += ((sy + yhy) * s[i] * s[j]) / (sy * sy) - (hy[i] * s[j] + s[i] * hy[j]) / sy
            }
        }
    }

    private static func dot(_ u: [Double], _ v: [Double]) -> Double {
        zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }
    }

    private static func norm(_ v: [Double]) -> Double {
        dot(v, v).squareRoot()
    }

    private static func maximumMagnitude(_ v: [Double]) -> Double {
        v.reduce(0) { max($0, abs($1)) }
    }
}

// MARK: - The models' search box

extension BoundedBFGS {
    /// The box both models search: every parameter in [e⁻¹⁸, e¹⁸] ≈ [1.5 · 10⁻⁸, 6.6 · 10⁷], in log space.
    static func logParameterBox(dimension: Int) -> BoundedBFGS {
        BoundedBFGS(
            lowerBounds: Array(repeating: -18, count: dimension),
            upperBounds: Array(repeating: 18, count: dimension)
        )
    }
}
