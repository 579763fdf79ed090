import Foundation

extension SpecialFunctions {
    /// ln D, D = ∫ from t₀ to t₁ of (m + τ)^(−p) (M + τ)^(−q) dτ, and its derivatives in p, q, m and M.
    struct LogPowerIntegral {
        var value: Double
        var dp = 0.0
        var dq = 0.0
        var dm = 0.0
        var dM = 0.0
    }

    /// ln ∫ from t₀ to t₁ of (m + τ)^(−p) (M + τ)^(−q) dτ, for 0 < m ≤ M, p, q > 0, p + q > 1, 0 ≤ t₀ ≤ t₁ (−∞ when
    /// t₀ = t₁), with its derivatives when `gradient` is set. `logs` are ln(m + t₀), ln(M + t₀), ln(m + t₁) and
    /// ln(M + t₁), which callers have at hand.
    ///
    /// Pareto/NBD's term for a death between the last purchase and now. Its published form (Fader & Hardie's A₀)
    /// is I(t₀) − I(t₁) with I(t) = ∫ₜ^∞ = (M + t)^(−c) ₂F₁(c, p; c + 1; z) / c, c = p + q − 1 and
    /// z = (M − m) / (M + t); by Euler's transformation I(t) = (m + t)^(1−p) (M + t)^(−q) ₂F₁(1, q; c + 1; z) / c,
    /// a series of positive terms with ratio below z, whose derivatives are series summed in the same loop.
    /// It converges slowly as z → 1, when m + t is small beside M + t (a customer silent since t = 0, with one
    /// rate parameter far above the other). There u = 1 − z = (m + τ) / (M + τ) is small, and τ → u turns the
    /// integral into (M − m)^(−c) ∫ u^(−p) (1 − u)^(c−1) du, summed in the binomial series of (1 − u)^(c−1)
    /// between the two ends, so that the constant of integration, a ratio of gamma functions with poles at integer
    /// p, never appears. The range is split where u = 1 / (2 max(c, 1)), which bounds both the slow series'
    /// length (about 72 max(c, 1) terms) and the binomial series' cancellation (a factor e at most). That piece's
    /// derivatives, wanted only for extreme parameters, are central differences.
    static func logPowerProductIntegral(
        p: Double,
        q: Double,
        m: Double,
        M: Double,
        from t0: Double,
        to t1: Double,
        logs: (m0: Double, M0: Double, m1: Double, M1: Double),
        gradient: Bool = false
    ) -> LogPowerIntegral {
        guard t1 > t0 else { return LogPowerIntegral(value: -.infinity) }
        let split = 0.5 / max(p + q - 1, 1)
        guard M > m, logs.m0 - logs.M0 < log(split) else {
            return logTailDifference(p: p, q: q, width: M - m, logs: logs, gradient: gradient)
        }
        var result = LogPowerIntegral(value: logSmallRatioIntegral(p: p, q: q, m: m, M: M, logs: logs))
        guard gradient else { return result }
        // Central differences in each argument, with a step scaled to it (about (ε / f''')^(1/3)).
        func shifted(_ dp: Double, _ dq: Double, _ dm: Double, _ dM: Double) -> Double {
            let (m, M) = (m + dm, M + dM)
            let logs = (log(m + t0), log(M + t0), log(m + t1), log(M + t1))
            return logSmallRatioIntegral(p: p + dp, q: q + dq, m: m, M: M, logs: logs)
        }
        let (hp, hq, hm, hM) = (1e-5 * p, 1e-5 * q, 1e-5 * m, 1e-5 * M)
        result.dp = (shifted(hp, 0, 0, 0) - shifted(-hp, 0, 0, 0)) / (2 * hp)
        result.dq = (shifted(0, hq, 0, 0) - shifted(0, -hq, 0, 0)) / (2 * hq)
        result.dm = (shifted(0, 0, hm, 0) - shifted(0, 0, -hm, 0)) / (2 * hm)
        result.dM = (shifted(0, 0, 0, hM) - shifted(0, 0, 0, -hM)) / (2 * hM)
        return result
    }

    /// ln(I(t₀) − I(t₁)) by the z-series, with derivatives: those of ln I(tᵢ), dᵢ, combine as (d₀ − ρ d₁) / (1 − ρ)
    /// with ρ = I(t₁) / I(t₀) < 1.
    private static func logTailDifference(
        p: Double,
        q: Double,
        width: Double,
        logs: (m0: Double, M0: Double, m1: Double, M1: Double),
        gradient: Bool
    ) -> LogPowerIntegral {
        let upper = logTail(p: p, q: q, width: width, logMin: logs.m0, logMax: logs.M0, gradient: gradient)
        let lower = logTail(p: p, q: q, width: width, logMin: logs.m1, logMax: logs.M1, gradient: gradient)
        return logDifference(upper, lower, gradient: gradient).result
    }

    /// ln I(t), I(t) = ∫ₜ^∞ (m + τ)^(−p) (M + τ)^(−q) dτ = (m + t)^(1−p) (M + t)^(−q) ₂F₁(1, q; c + 1; z) / c with
    /// c = p + q − 1 and z = (M − m) / (M + t) taken straight from the `width` M − m (exact near m = M), from
    /// `logMin` = ln(m + t) and `logMax` = ln(M + t); with its derivatives in p, q, m and M at fixed t.
    static func logTail(
        p: Double,
        q: Double,
        width: Double,
        logMin: Double,
        logMax: Double,
        gradient: Bool
    ) -> LogPowerIntegral {
        let c = p + q - 1
        let (min, max) = (exp(logMin), exp(logMax))
        let series = hypergeometric2F1UnitA(q, c + 1, width / max)
        var tail = LogPowerIntegral(value: (1 - p) * logMin - q * logMax + log(series.value) - log(c))
        guard gradient else { return tail }
        tail.dp = -logMin + series.dc / series.value - 1 / c
        tail.dq = -logMax + (series.db + series.dc) / series.value - 1 / c
        tail.dm = (1 - p) / min - series.dz / series.value / max
        tail.dM = -q / max + series.dz / series.value * min / (max * max)
        return tail
    }

    /// ln(e^upper − e^lower) with its derivatives, and 1 − e^(lower − upper), the share of the upper term left:
    /// the digits the difference keeps. −∞ (and 0 left) unless lower < upper.
    static func logDifference(
        _ upper: LogPowerIntegral,
        _ lower: LogPowerIntegral,
        gradient: Bool
    ) -> (result: LogPowerIntegral, remaining: Double) {
        guard lower.value < upper.value else { return (LogPowerIntegral(value: -.infinity), 0) }
        let remaining = -expm1(lower.value - upper.value)  // 1 − ρ
        var result = LogPowerIntegral(value: upper.value + log(remaining))
        guard gradient else { return (result, remaining) }
        let rho = 1 - remaining
        result.dp = (upper.dp - rho * lower.dp) / remaining
        result.dq = (upper.dq - rho * lower.dq) / remaining
        result.dm = (upper.dm - rho * lower.dm) / remaining
        result.dM = (upper.dM - rho * lower.dM) / remaining
        return (result, remaining)
    }

    /// Gauss–Legendre nodes and weights on [−1, 1], 16 of them (the positive half; the rule is symmetric).
    private static let legendreNodes: [(node: Double, weight: Double)] = [
        (0.095_012_509_837_637_440_185, 0.189_450_610_455_068_496_285),
        (0.281_603_550_779_258_913_230, 0.182_603_415_044_923_588_867),
        (0.458_016_777_657_227_386_342, 0.169_156_519_395_002_538_189),
        (0.617_876_244_402_643_748_447, 0.149_595_988_816_576_732_081),
        (0.755_404_408_355_003_033_895, 0.124_628_971_255_533_872_052),
        (0.865_631_202_387_831_743_880, 0.095_158_511_682_492_784_810),
        (0.944_575_023_073_232_576_078, 0.062_253_523_938_647_892_863),
        (0.989_400_934_991_649_932_596, 0.027_152_459_411_754_094_852),
    ]

    /// ln ∫ from t₀ to t₁ of (m + τ)^(−p) (M + τ)^(−q) dτ by 16-point Gauss–Legendre quadrature, with derivatives
    /// (under the integral, at the same nodes), for an interval no longer than m + t₀: the integrand's nearest
    /// singularity, at τ = −m, then lies three half-widths or more from the interval's middle, where the rule is
    /// exact to far below rounding (error ~ 5.8⁻³²). For the intervals whose integral is a tiny part of the tail
    /// beyond t₀, where I(t₀) − I(t₁) would cancel.
    static func logShortIntegral(
        p: Double,
        q: Double,
        m: Double,
        M: Double,
        from t0: Double,
        to t1: Double,
        gradient: Bool
    ) -> LogPowerIntegral {
        let (middle, half) = ((t0 + t1) / 2, (t1 - t0) / 2)
        var logTerms: [(log: Double, logMin: Double, logMax: Double, inverseMin: Double, inverseMax: Double)] = []
        logTerms.reserveCapacity(16)
        var largest = -Double.infinity
        for (node, weight) in legendreNodes {
            for tau in [middle - half * node, middle + half * node] {
                let (logMin, logMax) = (log(m + tau), log(M + tau))
                let term = log(weight) - p * logMin - q * logMax
                largest = max(largest, term)
                logTerms.append((term, logMin, logMax, 1 / (m + tau), 1 / (M + tau)))
            }
        }
        var sum = 0.0
        var (dp, dq, dm, dM) = (0.0, 0.0, 0.0, 0.0)
        for term in logTerms {
            let share = exp(term.log - largest)
            sum += share
            guard gradient else { continue }
            dp -= share * term.logMin
            dq -= share * term.logMax
            dm -= share * term.inverseMin
            dM -= share * term.inverseMax
        }
        var result = LogPowerIntegral(value: largest + log(sum) + log(half))
        guard gradient else { return result }
        result.dp = dp / sum
        result.dq = dq / sum
        result.dm = p * dm / sum
        result.dM = q * dM / sum
        return result
    }

    /// ln D where u₀ = (m + t₀) / (M + t₀) is small: the binomial series up to the split, the z-series beyond it.
    /// (Its derivatives' differences may shift u₀ past the split: then the z-series alone.)
    private static func logSmallRatioIntegral(
        p: Double,
        q: Double,
        m: Double,
        M: Double,
        logs: (m0: Double, M0: Double, m1: Double, M1: Double)
    ) -> Double {
        let c = p + q - 1
        let logSplit = log(0.5 / max(c, 1))
        let (logU0, logU1, logWidth) = (logs.m0 - logs.M0, logs.m1 - logs.M1, log(M - m))
        guard logU0 < logSplit else {
            return logTailDifference(p: p, q: q, width: M - m, logs: logs, gradient: false).value
        }
        guard logU1 > logSplit else {
            return -c * logWidth + logBinomialSeriesIntegral(p: p, c: c, logU0: logU0, logU1: logU1)
        }
        // The split τ*: m + τ* = (M − m) u* / (1 − u*) and M + τ* = (M − m) / (1 − u*).
        let logMaxSplit = logWidth - log1p(-exp(logSplit))
        let near = -c * logWidth + logBinomialSeriesIntegral(p: p, c: c, logU0: logU0, logU1: logSplit)
        let splitLogs = (logSplit + logMaxSplit, logMaxSplit, logs.m1, logs.M1)
        let far = logTailDifference(p: p, q: q, width: M - m, logs: splitLogs, gradient: false).value
        let (high, low) = (max(near, far), min(near, far))
        return high + log1p(exp(low - high))
    }

    /// Above this z, ``hypergeometric2F1UnitA(_:_:_:)`` takes the continued fraction: the series needs about
    /// 36 / (1 − z) terms, the fraction a few dozen steps wherever the likelihoods take it.
    static let continuedFractionThreshold = 0.9

    /// ₂F₁(1, b; c; z) = Σₙ (b)ₙ / (c)ₙ zⁿ for 0 ≤ z < 1 and 0 < b < c, with its derivatives in b, c and z.
    ///
    /// Positive terms whose ratio (b + n) / (c + n) z stays below z; term n's derivatives are the term times
    /// Σₖ₍ₙ 1 / (b + k), times −Σₖ₍ₙ 1 / (c + k), and n / z. Above ``continuedFractionThreshold`` the series
    /// slows down as 1 / (1 − z) (Pareto/NBD's death-rate shape s grows without bound on a base where every
    /// customer died long ago, and c with it): there Gauss's continued fraction takes over
    /// (``hypergeometric2F1UnitAContinuedFraction(_:_:_:)``). NaN when not converged within ``maximumSeriesTerms``.
    static func hypergeometric2F1UnitA(
        _ b: Double,
        _ c: Double,
        _ z: Double
    ) -> (value: Double, db: Double, dc: Double, dz: Double) {
        guard z > 0 else { return z == 0 ? (1, 0, 0, b / c) : (.nan, .nan, .nan, .nan) }
        if z > continuedFractionThreshold, z < 1 { return hypergeometric2F1UnitAContinuedFraction(b, c, z) }
        // The tail after a term is below term · z / (1 − z) (and its derivatives' below n log n times that).
        let tolerance = Double.ulpOfOne * (1 - z) / z
        var (coefficient, power) = (1.0, 1.0)  // (b)ₙ / (c)ₙ and zⁿ⁻¹
        var (sumB, sumC) = (0.0, 0.0)
        var sum = (value: 1.0, db: 0.0, dc: 0.0, dz: 0.0)
        var n = 0.0
        for _ in 0..<maximumSeriesTerms {
            // One division for the ratio and both reciprocals: this loop is most of a Pareto/NBD likelihood pass.
            let (bn, cn) = (b + n, c + n)
            let inverse = 1 / (bn * cn)
            coefficient *= bn * bn * inverse
            sumB += cn * inverse
            sumC += bn * inverse
            n += 1
            let derivative = n * coefficient * power  // d(term) / dz
            power *= z
            let term = coefficient * power
            sum.value += term
            sum.db += term * sumB
            sum.dc -= term * sumC
            sum.dz += derivative
            if term * n <= tolerance * sum.value { return sum }
        }
        return (.nan, .nan, .nan, .nan)
    }

    /// ₂F₁(1, b; c; z) for 0 < z < 1 and 0 < b, 1 < c by the continued fraction of the incomplete beta function
    /// (Numerical Recipes' `betacf`, modified Lentz), with its derivatives in b, c and z.
    ///
    /// B_z(a, β) = z^a (1 − z)^β / a · ₂F₁(a + β, 1; a + 1; z), so with a = c − 1 and β = 1 − c + b the fraction
    /// of B_z(a, β) is ₂F₁(1, b; c; z); it converges quickly for z < (a + 1) / (a + β + 2) = c / (b + 2), and in at
    /// most a few hundred steps above it (for z = 1 − 1 / (2c) even at c = 10⁴). The derivatives in a and β ride
    /// along as dual numbers; the one in z is closed: with F the fraction, dF / dz = a / (z (1 − z)) −
    /// F (a / z − β / (1 − z)), from dB_z / dz = z^(a−1) (1 − z)^(β−1). NaN when not converged.
    static func hypergeometric2F1UnitAContinuedFraction(
        _ b: Double,
        _ c: Double,
        _ z: Double
    ) -> (value: Double, db: Double, dc: Double, dz: Double) {
        let a = DualNumber(value: c - 1, da: 1, db: 0)
        let beta = DualNumber(value: 1 - c + b, da: 0, db: 1)
        let one = DualNumber(value: 1, da: 0, db: 0)
        let tiny = 1e-300
        func guarded(_ x: DualNumber) -> DualNumber { abs(x.value) < tiny ? DualNumber(value: tiny, da: 0, db: 0) : x }
        var previous = one  // Lentz's C
        var denominator = guarded(one - (a + beta) * z / (a + 1)).reciprocal  // Lentz's D
        var fraction = denominator
        for step in 1..<1_000 {
            let m = Double(step)
            let even = m * (beta - m) * z / ((a - 1 + 2 * m) * (a + 2 * m))
            denominator = guarded(one + even * denominator).reciprocal
            previous = guarded(one + even / previous)
            fraction = fraction * denominator * previous
            let odd = -1 * (a + m) * (a + beta + m) * z / ((a + 2 * m) * (a + 1 + 2 * m))
            denominator = guarded(one + odd * denominator).reciprocal
            previous = guarded(one + odd / previous)
            let change = denominator * previous
            fraction = fraction * change
            if abs(change.value - 1) <= 2 * Double.ulpOfOne, abs(change.da) <= 1e-15, abs(change.db) <= 1e-15 {
                let value = fraction.value
                let dz = a.value / (z * (1 - z)) - value * (a.value / z - beta.value / (1 - z))
                // F(b, c) = fraction(a = c − 1, β = 1 − c + b): ∂/∂b = ∂/∂β, ∂/∂c = ∂/∂a − ∂/∂β.
                return (value, fraction.db, fraction.da - fraction.db, dz)
            }
        }
        return (.nan, .nan, .nan, .nan)
    }

    /// ln ∫ from u₀ to u₁ of u^(−p) (1 − u)^(c−1) du for 0 < u₀ < u₁ small (u₁ max(c, 1) ≤ 1/2), from ln u₀, ln u₁.
    ///
    /// Term k of the binomial series, (1 − c)ₖ / k! ∫ u^(k−p) du, is (1 − c)ₖ / k! (u₁^e − u₀^e) / e with
    /// e = k + 1 − p, taken as base^e (1 − e^(−|e| Λ)) / |e| with Λ = ln(u₁ / u₀) and base the larger end's u: exact
    /// through e = 0 (the logarithmic term, Λ, at integer p) and free of overflow. The terms alternate when c > 1,
    /// and are summed scaled by the largest.
    static func logBinomialSeriesIntegral(p: Double, c: Double, logU0: Double, logU1: Double) -> Double {
        let span = logU1 - logU0
        guard span > 0 else { return -.infinity }
        // The sum so far, scaled by e^−reference, the largest term's logarithm (rescaled when a larger one comes).
        var (reference, scaled) = (-Double.infinity, 0.0)
        var (logCoefficient, sign) = (0.0, 1.0)
        var k = 0.0
        for _ in 0..<maximumSeriesTerms {
            let e = k + 1 - p
            let logIntegral =
                e == 0
                ? log(span)
                : e * (e > 0 ? logU1 : logU0) + log(-expm1(-abs(e) * span)) - log(abs(e))
            let logTerm = logCoefficient + logIntegral
            if logTerm > reference {
                scaled *= exp(reference - logTerm)
                reference = logTerm
            }
            scaled += sign * exp(logTerm - reference)
            let factor = (1 - c + k) / (k + 1)
            // A zero factor ends the series (integer c: a polynomial); once e > 0 the terms only shrink, by a
            // ratio below u₁ max(c, 1) ≤ 1/2, so one under e⁻³⁸ ≈ 3 · 10⁻¹⁷ of the largest ends it.
            if factor == 0 || (e > 0 && logTerm < reference - 38) || logTerm.isNaN { break }
            logCoefficient += log(abs(factor))
            if factor < 0 { sign = -sign }
            k += 1
        }
        return reference + log(scaled)
    }
}

/// A number with its derivatives in two variables, for the continued fraction's parameter derivatives.
struct DualNumber {
    var value: Double
    var da: Double
    var db: Double

    var reciprocal: DualNumber {
        let inverse = 1 / value
        let square = -inverse * inverse
        return DualNumber(value: inverse, da: da * square, db: db * square)
    }

    static func + (x: DualNumber, y: DualNumber) -> DualNumber {
        DualNumber(value: x.value + y.value, da: x.da + y.da, db: x.db + y.db)
    }

    static func - (x: DualNumber, y: DualNumber) -> DualNumber {
        DualNumber(value: x.value - y.value, da: x.da - y.da, db: x.db - y.db)
    }

    static func * (x: DualNumber, y: DualNumber) -> DualNumber {
        DualNumber(value: x.value * y.value, da: x.da * y.value + x.value * y.da, db: x.db * y.value + x.value * y.db)
    }

    static func / (x: DualNumber, y: DualNumber) -> DualNumber {
        x * y.reciprocal
    }

    static func + (x: DualNumber, y: Double) -> DualNumber { DualNumber(value: x.value + y, da: x.da, db: x.db) }
    static func - (x: DualNumber, y: Double) -> DualNumber { DualNumber(value: x.value - y, da: x.da, db: x.db) }
    static func - (x: Double, y: DualNumber) -> DualNumber { DualNumber(value: x - y.value, da: -y.da, db: -y.db) }
    static func * (x: DualNumber, y: Double) -> DualNumber {
        DualNumber(value: x.value * y, da: x.da * y, db: x.db * y)
    }
    static func * (x: Double, y: DualNumber) -> DualNumber { y * x }
    static func / (x: DualNumber, y: Double) -> DualNumber {
        DualNumber(value: x.value / y, da: x.da / y, db: x.db / y)
    }
}
