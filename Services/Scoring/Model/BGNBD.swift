import CRMSupport
import Foundation

/// The BG/NBD model of repeat buying (Fader, Hardie & Lee, 2005), as fitted by lifetimes' `BetaGeoFitter`.
///
/// While alive, a customer buys as a Poisson process with rate λ ~ Gamma(shape r, rate α); after each repeat
/// purchase they drop out for good with probability p ~ Beta(a, b). Times are in the unit of the summaries the
/// model was fitted on (weeks for the CDNOW figures), so α is a time and r / α the mean purchase rate.
public struct BGNBD: Sendable, Hashable, Codable {
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
    public func probabilityAlive(x: Int, tx: Double, T: Double) -> Double {
        guard x > 0 else { return 1 }  // the model lets customers drop out only after a repeat purchase
        let n = Double(x)
        // Odds of having dropped out right after the last purchase, in logs: ((α+T)/(α+t_x))^(r+x) overflows.
        let logOdds = log(a / (b + n - 1)) + (r + n) * log1p((T - tx) / (alpha + tx))
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
    /// Everything but P(alive) depends on (x, T) alone, so the series behind it is summed once per distinct pair:
    /// on a real base, a few per cent of the customers.
    public func conditionalExpectedPurchases(
        t: Double,
        for customers: some Collection<TransactionSummary>
    ) -> [Double] {
        let customers = Array(customers)
        return conditionalExpectedPurchases(t: t, for: customers, histories: DistinctHistories(customers))
    }

    /// Expected purchases in (T, T + t] of a customer known to be alive at T, for t ≥ 0.
    ///
    /// The published form is c / (a − 1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; c; z)] with c = a + b + x − 1
    /// and z = t / (α+T+t). Euler's transformation turns the bracket into 1 − (1−z)^(a−1) ₂F₁(c−r−x, a−1; c; z),
    /// whose series, unlike the original, converges up to z = 1 for the usual a < 1 + r + x (lifetimes' fallback);
    /// and as every term of that ₂F₁ but the first carries the factor a − 1, the division by a − 1 is done
    /// analytically: no 0/0 at a = 1.
    public func expectedPurchasesIfAlive(t: Double, x: Int, T: Double) -> Double {
        let n = Double(x)
        let c = a + b + n - 1
        let z = t / (alpha + T + t)
        let logRemaining = -log1p(t / (alpha + T))  // ln(1 − z), exact for small and large t alike
        let aMinusOne = a - 1
        // (1 − (1−z)^(a−1)) / (a − 1), with its limit −ln(1 − z) at a = 1.
        let growth = aMinusOne == 0 ? -logRemaining : -expm1(aMinusOne * logRemaining) / aMinusOne
        let excess = SpecialFunctions.hypergeometric2F1Excess(c - r - n, aMinusOne, c, z)
        return c * (growth - exp(aMinusOne * logRemaining) * excess)
    }
}

/// What the expectations given "alive" depend on: x and T, not t_x.
struct HistoryKey: Hashable {
    var frequency: Int
    var age: Double

    init(_ customer: TransactionSummary) {
        self.frequency = customer.frequency
        self.age = customer.age
    }
}

/// The distinct (x, T) of a list of customers, and which one each customer has: what depends on them alone is
/// computed once per distinct pair (on a real base, a few per cent of the customers) and on all cores.
struct DistinctHistories {
    /// Each distinct pair once, in order of first appearance.
    let keys: [HistoryKey]
    /// Per customer, the position of its pair in ``keys``.
    let index: [Int32]

    init(_ customers: [TransactionSummary]) {
        var positions: [HistoryKey: Int32] = [:]
        var keys: [HistoryKey] = []
        index = customers.map { customer in
            let key = HistoryKey(customer)
            if let known = positions[key] { return known }
            let position = Int32(keys.count)
            positions[key] = position
            keys.append(key)
            return position
        }
        self.keys = keys
    }

    /// `value` of every distinct pair, in the order of ``keys``.
    func evaluate(_ value: @Sendable (HistoryKey) -> Double) -> [Double] {
        ParallelChunks.array(count: keys.count, chunk: 256) { value(keys[$0]) }
    }
}

/// The distinct (x, t_x, T) of a list of customers, and which one each customer has: for what depends on the whole
/// history, such as Pareto/NBD's P(alive), an integral worth computing once per distinct history.
struct DistinctFullHistories {
    struct Key: Hashable {
        var frequency: Int
        var recency: Double
        var age: Double
    }

    /// Each distinct history once, in order of first appearance.
    let keys: [Key]
    /// Per customer, the position of its history in ``keys``.
    let index: [Int32]

    init(_ customers: [TransactionSummary]) {
        var positions: [Key: Int32] = [:]
        var keys: [Key] = []
        index = customers.map { customer in
            let key = Key(frequency: customer.frequency, recency: customer.recency, age: customer.age)
            if let known = positions[key] { return known }
            let position = Int32(keys.count)
            positions[key] = position
            keys.append(key)
            return position
        }
        self.keys = keys
    }
}
