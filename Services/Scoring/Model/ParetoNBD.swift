import CRMSupport
import Foundation

/// The Pareto/NBD model of repeat buying (Schmittlein, Morrison & Colombo, 1987), as lifetimes' `ParetoNBDFitter`.
///
/// While alive, a customer buys as a Poisson process with rate λ ~ Gamma(shape r, rate α), and dies at an
/// exponential time of rate μ ~ Gamma(shape s, rate β), at any moment rather than only after a purchase as in
/// BG/NBD. Times are in the unit of the summaries the model was fitted on (weeks for the CDNOW figures), so α and
/// β are times, r / α the mean purchase rate and s / β the mean death rate.
public struct ParetoNBD: Sendable, Hashable, Codable {
    /// Shape r of the gamma distribution of purchase rates.
    public var r: Double
    /// Rate α of the gamma distribution of purchase rates, in model time units.
    public var alpha: Double
    /// Shape s of the gamma distribution of death rates.
    public var s: Double
    /// Rate β of the gamma distribution of death rates, in model time units.
    public var beta: Double

    /// A model with the given parameters; see ``isValid``.
    public init(r: Double, alpha: Double, s: Double, beta: Double) {
        self.r = r
        self.alpha = alpha
        self.s = s
        self.beta = beta
    }

    /// Whether every parameter is positive and finite, as the formulas need (check decoded parameters).
    public var isValid: Bool {
        [r, alpha, s, beta].allSatisfy { $0 > 0 && $0.isFinite }
    }

    // MARK: - Predictions

    /// Probability that a customer with `x` repeat purchases, the last at age `tx`, is still alive at age `T`.
    public func probabilityAlive(x: Int, tx: Double, T: Double) -> Double {
        let terms = likelihoodTerms(
            x: x,
            tx: tx,
            T: T,
            logAlpha: (log(alpha + tx), log(alpha + T)),
            logBeta: (log(beta + tx), log(beta + T))
        )
        return 1 / (1 + exp(terms.dead - terms.alive))
    }

    /// Expected repeat purchases in the next `t` time units of a customer with history (`x`, `tx`, `T`).
    ///
    /// lifetimes' `conditional_expected_number_of_purchases_up_to_time`; NaN for `t` < 0.
    public func conditionalExpectedPurchases(t: Double, x: Int, tx: Double, T: Double) -> Double {
        guard t > 0 else { return t == 0 ? 0 : .nan }
        return probabilityAlive(x: x, tx: tx, T: T) * expectedPurchasesIfAlive(t: t, x: x, T: T)
    }

    /// Expected repeat purchases in the first `t` time units after a new customer's first purchase.
    public func expectedPurchases(t: Double) -> Double {
        conditionalExpectedPurchases(t: t, x: 0, tx: 0, T: 0)
    }

    /// ``probabilityAlive(x:tx:T:)`` of a summarised customer.
    public func probabilityAlive(_ customer: TransactionSummary) -> Double {
        probabilityAlive(x: customer.frequency, tx: customer.recency, T: customer.age)
    }

    /// ``conditionalExpectedPurchases(t:x:tx:T:)`` of a summarised customer over the next `t` time units.
    public func conditionalExpectedPurchases(t: Double, for customer: TransactionSummary) -> Double {
        conditionalExpectedPurchases(t: t, x: customer.frequency, tx: customer.recency, T: customer.age)
    }

    /// ``conditionalExpectedPurchases(t:for:)`` of each customer, in order.
    ///
    /// Both factors are computed once per distinct history: P(alive), an integral of up to a few dozen terms,
    /// per (x, t_x, T), and the expectation given "alive" per (x, T): far fewer than the customers on a real base.
    public func conditionalExpectedPurchases(
        t: Double,
        for customers: some Collection<TransactionSummary>
    ) -> [Double] {
        let customers = Array(customers)
        return conditionalExpectedPurchases(t: t, for: customers, histories: DistinctHistories(customers))
    }

    /// P(alive) of each customer, in order: once per distinct (x, t_x, T), on all cores.
    public func probabilitiesAlive(for customers: [TransactionSummary]) -> [Double] {
        let histories = DistinctFullHistories(customers)
        let keys = histories.keys
        let alive = ParallelChunks.array(count: keys.count, chunk: 1_024) { i in
            probabilityAlive(x: keys[i].frequency, tx: keys[i].recency, T: keys[i].age)
        }
        let index = histories.index
        return ParallelChunks.array(count: customers.count) { i in alive[Int(index[i])] }
    }

    /// Expected purchases in (T, T + t] of a customer known to be alive at T, for t ≥ 0.
    ///
    /// Given alive, λ ~ Gamma(r + x, α + T) and μ ~ Gamma(s, β + T), and the expectation is
    /// (r+x) / (α+T) · (β+T) / (s−1) · [1 − ((β+T) / (β+T+t))^(s−1)]; the bracket over s − 1 goes through expm1,
    /// with its limit ln((β+T+t) / (β+T)) at s = 1 (lifetimes divides 0 by 0 there).
    public func expectedPurchasesIfAlive(t: Double, x: Int, T: Double) -> Double {
        let logRemaining = -log1p(t / (beta + T))  // ln((β+T) / (β+T+t)) ≤ 0
        let sMinusOne = s - 1
        let growth = sMinusOne == 0 ? -logRemaining : -expm1(sMinusOne * logRemaining) / sMinusOne
        return (r + Double(x)) / (alpha + T) * (beta + T) * growth
    }

    /// The two parts of a customer's likelihood, without the factor Γ(r+x) α^r β^s / Γ(r), in logs: alive at T,
    /// (α+T)^(−(r+x)) (β+T)^(−s), and dead between t_x and T, s ∫ (α+τ)^(−(r+x)) (β+τ)^(−(s+1)) dτ over
    /// [t_x, T] (Fader & Hardie's s A₀ / (r+s+x)). P(alive) is the first's share of their sum.
    struct LikelihoodTerms {
        var alive: Double
        var dead: Double
        /// ∂ dead / ∂(r, α, s, β), when asked for.
        var deadGradient = (r: 0.0, alpha: 0.0, s: 0.0, beta: 0.0)
    }

    /// The ``LikelihoodTerms`` of history (`x`, `tx`, `T`), with the dead term's gradient when `gradient` is set.
    ///
    /// `logAlpha` and `logBeta` are ln(α + t_x), ln(α + T) and ln(β + t_x), ln(β + T).
    func likelihoodTerms(
        x: Int,
        tx: Double,
        T: Double,
        logAlpha: (recency: Double, age: Double),
        logBeta: (recency: Double, age: Double),
        gradient: Bool = false
    ) -> LikelihoodTerms {
        let k = r + Double(x)
        let alive = -k * logAlpha.age - s * logBeta.age
        // The integral takes the smaller rate parameter first, each with its power, and its derivatives follow.
        if alpha <= beta {
            let integral = SpecialFunctions.logPowerProductIntegral(
                p: k,
                q: s + 1,
                m: alpha,
                M: beta,
                from: tx,
                to: T,
                logs: (logAlpha.recency, logBeta.recency, logAlpha.age, logBeta.age),
                gradient: gradient
            )
            return LikelihoodTerms(
                alive: alive,
                dead: log(s) + integral.value,
                deadGradient: (integral.dp, integral.dm, 1 / s + integral.dq, integral.dM)
            )
        }
        let integral = SpecialFunctions.logPowerProductIntegral(
            p: s + 1,
            q: k,
            m: beta,
            M: alpha,
            from: tx,
            to: T,
            logs: (logBeta.recency, logAlpha.recency, logBeta.age, logAlpha.age),
            gradient: gradient
        )
        return LikelihoodTerms(
            alive: alive,
            dead: log(s) + integral.value,
            deadGradient: (integral.dq, integral.dM, 1 / s + integral.dp, integral.dm)
        )
    }
}
