import Foundation

/// The MBG/NBD model of repeat buying (Batislam, Denizel & Filiztekin, 2007), as lifetimes'
/// `ModifiedBetaGeoFitter`.
///
/// BG/NBD with one more chance to drop out: right at the first purchase as well as after each repeat one, each
/// time with probability p ~ Beta(a, b). So a customer who never came back may be gone (P(alive) < 1 at x = 0),
/// where BG/NBD holds them alive for sure. While alive, purchases are Poisson with rate λ ~ Gamma(shape r, rate α),
/// and times are in the unit of the summaries the model was fitted on (weeks for the CDNOW figures).
public struct MBGNBD: Sendable, Hashable, Codable {
    /// Shape r of the gamma distribution of purchase rates.
    public var r: Double
    /// Rate α of the gamma distribution of purchase rates, in model time units.
    public var alpha: Double
    /// First shape a of the beta distribution of dropout probabilities.
    public var a: Double
    /// Second shape b of the beta distribution of dropout probabilities.
    public var b: Double

    /// A model with the given parameters; see ``isValid``.
    public init(r: Double, alpha: Double, a: Double, b: Double) {
        self.r = r
        self.alpha = alpha
        self.a = a
        self.b = b
    }

    /// Whether every parameter is positive and finite, as the formulas need (check decoded parameters).
    public var isValid: Bool {
        [r, alpha, a, b].allSatisfy { $0 > 0 && $0.isFinite }
    }

    // MARK: - Predictions

    /// Probability that a customer with `x` repeat purchases, the last at age `tx`, is still alive at age `T`.
    ///
    /// 1 / (1 + a / (b + x) · ((α+T) / (α+t_x))^(r+x)), for x = 0 too: a new customer (x = 0, T = 0) is alive
    /// with probability b / (a + b), the chance of not dropping out at the first purchase.
    public func probabilityAlive(x: Int, tx: Double, T: Double) -> Double {
        let n = Double(x)
        // Odds of having dropped out right after the last purchase, in logs: ((α+T)/(α+t_x))^(r+x) overflows.
        let logOdds = log(a / (b + n)) + (r + n) * log1p((T - tx) / (alpha + tx))
        return 1 / (1 + exp(logOdds))
    }

    /// Expected repeat purchases in the next `t` time units of a customer with history (`x`, `tx`, `T`).
    ///
    /// lifetimes' `conditional_expected_number_of_purchases_up_to_time`; NaN for `t` < 0.
    public func conditionalExpectedPurchases(t: Double, x: Int, tx: Double, T: Double) -> Double {
        guard t > 0 else { return t == 0 ? 0 : .nan }
        return probabilityAlive(x: x, tx: tx, T: T) * expectedPurchasesIfAlive(t: t, x: x, T: T)
    }

    /// Expected repeat purchases in the first `t` time units after a new customer's first purchase.
    ///
    /// lifetimes' `expected_number_of_purchases_up_to_time`: the conditional expectation at x = 0, T = 0, where
    /// the dropout at the first purchase already weighs in.
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
    /// Everything but P(alive) depends on (x, T) alone, so the series behind it is summed once per distinct pair.
    public func conditionalExpectedPurchases(
        t: Double,
        for customers: some Collection<TransactionSummary>
    ) -> [Double] {
        let customers = Array(customers)
        return conditionalExpectedPurchases(t: t, for: customers, histories: DistinctHistories(customers))
    }

    /// Expected purchases in (T, T + t] of a customer known to be alive at T, for t ≥ 0.
    ///
    /// The published form, (a+b+x) / (a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x+1; a+b+x; z)] with
    /// z = t / (α+T+t), is BG/NBD's with b + 1 in place of b: a customer alive after x repeat purchases has
    /// survived x + 1 dropout chances, which makes the beta posterior of p the one BG/NBD has after x + 1 of them.
    /// So BG/NBD's evaluation does it, with its Euler transformation and its exact limit at a = 1.
    public func expectedPurchasesIfAlive(t: Double, x: Int, T: Double) -> Double {
        BGNBD(r: r, alpha: alpha, a: a, b: b + 1).expectedPurchasesIfAlive(t: t, x: x, T: T)
    }
}
