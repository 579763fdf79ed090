import CRMSupport

/// Discounted expected customer lifetime value, as lifetimes' `GammaGammaFitter.customer_lifetime_value`.
///
/// The horizon is cut into ``periods`` periods of ``periodLength`` model time units. Period k contributes the
/// expected purchases within it (any ``PurchaseModel``: BG/NBD, MBG/NBD, Pareto/NBD) times the expected value per
/// transaction (Gamma-Gamma), discounted by (1 + ``discountRate``)ᵏ. The result is in the spend model's currency
/// units.
public struct LifetimeValue<Transactions: PurchaseModel>: Sendable, Hashable {
    /// The purchase model; its time unit is the one ``periodLength`` is measured in.
    public var transactions: Transactions
    /// The spend-per-transaction model.
    public var spend: GammaGamma
    /// Number of periods in the horizon; default 12 (a year of months). No periods, no value.
    public var periods: Int
    /// Length of one period in the purchase model's time unit; default a month in weeks (30.4375 / 7 ≈ 4.348).
    public var periodLength: Double
    /// Discount rate per period; default 0.01 (1 % a month, about 12.7 % a year).
    public var discountRate: Double

    /// A valuation over `periods` (default 12) periods of `period` (default a month), discounted at
    /// `discountRate` (default 0.01) per period, for models fitted in `modelUnit` (default weeks).
    ///
    /// lifetimes' `freq="W"` month is 4.345 weeks: pass `period: TimeUnit(days: 4.345 * 7)` to match it exactly.
    public init(
        transactions: Transactions,
        spend: GammaGamma,
        modelUnit: TimeUnit = .week,
        periods: Int = 12,
        period: TimeUnit = .month,
        discountRate: Double = 0.01
    ) {
        self.transactions = transactions
        self.spend = spend
        self.periods = periods
        self.periodLength = period.days / modelUnit.days
        self.discountRate = discountRate
    }

    /// Discounted expected value over the horizon of a customer with history (`x`, `tx`, `T`) whose repeat
    /// transactions averaged `monetary` (ignored when x = 0), in currency units. Allocation-free.
    public func value(x: Int, tx: Double, T: Double, monetary: Double) -> Double {
        transactions.probabilityAlive(x: x, tx: tx, T: T)
            * spend.conditionalExpectedAverageSpend(x: x, monetary: monetary)
            * discountedPurchasesIfAlive(x: x, T: T)
    }

    /// ``value(x:tx:T:monetary:)`` of a summarised customer.
    public func value(for customer: TransactionSummary) -> Double {
        value(x: customer.frequency, tx: customer.recency, T: customer.age, monetary: customer.monetaryValue)
    }

    /// ``value(for:)`` of each customer, in order.
    ///
    /// The discounted purchase sum, nearly all of the work, depends on (x, T) alone, so it is computed once per
    /// distinct pair: on a real base, a few per cent of the customers.
    public func values(for customers: some Collection<TransactionSummary>) -> [Double] {
        let customers = Array(customers)
        return values(for: customers, histories: DistinctHistories(customers))
    }

    /// ``values(for:)`` with the customers' distinct histories already listed.
    func values(for customers: [TransactionSummary], histories: DistinctHistories) -> [Double] {
        values(for: customers, histories: histories, alive: transactions.probabilitiesAlive(for: customers))
    }

    /// ``values(for:histories:)`` with every customer's P(alive) already at hand.
    func values(for customers: [TransactionSummary], histories: DistinctHistories, alive: [Double]) -> [Double] {
        let sums = histories.evaluate { discountedPurchasesIfAlive(x: $0.frequency, T: $0.age) }
        return ParallelChunks.array(count: customers.count) { i in
            alive[i] * spend.conditionalExpectedAverageSpend(customers[i]) * sums[Int(histories.index[i])]
        }
    }

    /// Σₖ (E[purchases by k periods] − E[purchases by k − 1 periods]) / (1 + d)ᵏ for a customer alive at T.
    /// P(alive) and the spend are common factors of every period, so they stay outside.
    func discountedPurchasesIfAlive(x: Int, T: Double) -> Double {
        guard periods > 0 else { return 0 }
        var discounted = 0.0
        var previous = 0.0
        var discount = 1.0
        for k in 1...periods {
            let cumulative = transactions.expectedPurchasesIfAlive(t: Double(k) * periodLength, x: x, T: T)
            discount /= 1 + discountRate
            discounted += (cumulative - previous) * discount
            previous = cumulative
        }
        return discounted
    }
}
