import CRMSupport
import Foundation

/// Special functions the likelihoods and predictions need, accurate to a few ulps where the models use them.
enum SpecialFunctions {
    /// Cap on the terms of a hypergeometric series: enough for z ≤ 1 − 10⁻³, i.e. for BG/NBD horizons up
    /// to a thousand times (α + T). Past it the series reports NaN instead of a silently wrong value.
    static let maximumSeriesTerms = 200_000

    // MARK: - Gamma and digamma

    /// ln |Γ(x)|; the C library's `lgamma`, named apart from Glibc's tuple-returning Swift overload.
    static func logGamma(_ x: Double) -> Double {
        lgamma(x)
    }

    /// The digamma function ψ(x) = d ln Γ(x) / dx; NaN at the poles 0, −1, −2, ….
    static func digamma(_ x: Double) -> Double {
        guard x > 0 else {
            guard x != x.rounded(.down) else { return .nan }
            // Reflection: ψ(1 − x) − ψ(x) = π cot(πx).
            return digamma(1 - x) - Double.pi / tan(Double.pi * x)
        }
        var x = x
        var shift = 0.0
        // ψ(x) = ψ(x + 1) − 1/x, up to where the asymptotic series is exact to double precision.
        while x < 10 {
            shift -= 1 / x
            x += 1
        }
        // ψ(x) ≈ ln x − 1/(2x) − Σₖ B₂ₖ / (2k x²ᵏ) through k = 7; the next term is below 10⁻¹⁶ at x = 10.
        let u = 1 / (x * x)
        var series = 691.0 / 32760 - u / 12
        series = 1.0 / 132 - u * series
        series = 1.0 / 240 - u * series
        series = 1.0 / 252 - u * series
        series = 1.0 / 120 - u * series
        series = 1.0 / 12 - u * series
        return shift + log(x) - 0.5 / x - u * series
    }

    // MARK: - Gauss hypergeometric function

    /// Gauss's hypergeometric function ₂F₁(a, b; c; z) for real z ≤ 1.
    ///
    /// NaN above 1 (the branch cut), when c is a non-positive integer, or when the series has not converged
    /// (see ``maximumSeriesTerms``); +∞ at z = 1 when c − a − b ≤ 0.
    static func hypergeometric2F1(_ a: Double, _ b: Double, _ c: Double, _ z: Double) -> Double {
        guard z <= 1, c > 0 || c != c.rounded(.down) else { return .nan }
        if z == 1 {
            // Gauss's summation theorem; the series diverges at 1 unless c − a − b > 0.
            guard c - a - b > 0 else { return .infinity }
            return tgamma(c) * tgamma(c - a - b) / (tgamma(c - a) * tgamma(c - b))
        }
        if z < 0 {
            // Pfaff's transformation maps z < 0 to w = z / (z − 1) in (0, 1): no alternating terms, and the
            // series converges for any z < 0, not only for z > −1.
            return pow(1 - z, -a) * hypergeometric2F1(a, c - b, c, z / (z - 1))
        }
        if c - a - b < 0 {
            // Euler's transformation, the one lifetimes falls back to: ₂F₁ grows like (1 − z)^(c−a−b) towards
            // z = 1, which the plain series approaches only slowly; the transformed series converges at 1 itself.
            return pow(1 - z, c - a - b) * (1 + (c - b) * hypergeometric2F1Excess(c - a, c - b, c, z))
        }
        return 1 + b * hypergeometric2F1Excess(a, b, c, z)
    }

    /// (₂F₁(a, b; c; z) − 1) / b, summed without dividing by b, for |z| < 1:
    /// Σ_{n≥1} (a)ₙ (b+1)ₙ₋₁ / ((c)ₙ n!) zⁿ.
    ///
    /// Every term of the ₂F₁ series after the first carries the factor b, so this stays exact as b → 0, which
    /// the BG/NBD expectation needs at a = 1. NaN when it has not converged within ``maximumSeriesTerms``.
    static func hypergeometric2F1Excess(_ a: Double, _ b: Double, _ c: Double, _ z: Double) -> Double {
        var term = a * z / c
        var sum = term
        var n = 1.0
        for _ in 1..<maximumSeriesTerms {
            let ratio = (a + n) * (b + n) / ((c + n) * (n + 1)) * z
            term *= ratio
            sum += term
            // A small term is the end only while terms shrink: with |ratio| ≥ 1 larger ones may follow.
            if abs(term) <= Double.ulpOfOne * abs(sum) && abs(ratio) < 1 { return sum }
            n += 1
        }
        return .nan
    }
}
