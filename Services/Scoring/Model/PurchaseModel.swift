import CRMSupport
import Foundation

/// The three models of repeat buying a full rescoring fits, by the names the interface gives them.
public enum PurchaseModelKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// BG/NBD (Fader, Hardie & Lee 2005): ``BGNBD``.
    case bgnbd
    /// MBG/NBD (Batislam, Denizel & Filiztekin 2007): ``MBGNBD``.
    case mbgnbd
    /// Pareto/NBD (Schmittlein, Morrison & Colombo 1987): ``ParetoNBD``.
    case paretoNBD = "pareto_nbd"

    /// The name people write: "BG/NBD", "MBG/NBD", "Pareto/NBD".
    public var displayName: String {
        switch self {
        case .bgnbd: "BG/NBD"
        case .mbgnbd: "MBG/NBD"
        case .paretoNBD: "Pareto/NBD"
        }
    }

    /// The parameters' names, in the model's order and as the interface spells them.
    public var parameterNames: [String] {
        switch self {
        case .bgnbd, .mbgnbd: ["r", "alpha", "a", "b"]
        case .paretoNBD: ["r", "alpha", "s", "beta"]
        }
    }
}

/// What every purchase model predicts for a customer summarised as (x, t_x, T): the chance they are still a
/// customer, and the repeat purchases to expect while they are. Times are in the unit of the summaries the model
/// was fitted on.
///
/// The scores, the lifetime value and the holdout validation use any of the three through this protocol.
public protocol PurchaseModel: Sendable, Hashable, Codable {
    /// Which of the three models this is.
    static var kind: PurchaseModelKind { get }

    /// The parameters by name (``PurchaseModelKind/parameterNames``).
    var namedParameters: [String: Double] { get }

    /// Whether every parameter is positive and finite, as the formulas need (check decoded parameters).
    var isValid: Bool { get }

    /// Probability that a customer with `x` repeat purchases, the last at age `tx`, is still alive at age `T`.
    func probabilityAlive(x: Int, tx: Double, T: Double) -> Double

    /// Expected repeat purchases in (T, T + t] of a customer with `x` repeat purchases known to be alive at `T`.
    func expectedPurchasesIfAlive(t: Double, x: Int, T: Double) -> Double

    /// ``probabilityAlive(x:tx:T:)`` of each customer, in order, on all cores (a model whose P(alive) is costly
    /// computes it once per distinct history).
    func probabilitiesAlive(for customers: [TransactionSummary]) -> [Double]

    /// Maximum-likelihood fit to customers' summaries, all in one time unit, with standard errors.
    static func fit(_ summaries: some Sequence<TransactionSummary>) throws(ModelFitError) -> ModelFit<Self>
}

extension PurchaseModel {
    /// Which of the three models this is.
    public var kind: PurchaseModelKind { Self.kind }

    /// ln θ in the order of ``PurchaseModelKind/parameterNames``: where a fit searches.
    var logParameters: [Double] {
        Self.kind.parameterNames.map { log(namedParameters[$0] ?? .nan) }
    }

    public func probabilitiesAlive(for customers: [TransactionSummary]) -> [Double] {
        ParallelChunks.array(count: customers.count) { i in
            probabilityAlive(x: customers[i].frequency, tx: customers[i].recency, T: customers[i].age)
        }
    }

    /// Expected repeat purchases of each customer in the next `t` time units, in order.
    ///
    /// Everything but P(alive) depends on (x, T) alone, so the expectation if alive is computed once per distinct
    /// pair of `histories` (the customers' own): on a real base, a few per cent of the customers.
    func conditionalExpectedPurchases(
        t: Double,
        for customers: [TransactionSummary],
        histories: DistinctHistories
    ) -> [Double] {
        guard t > 0 else { return Array(repeating: t == 0 ? 0 : .nan, count: customers.count) }
        return conditionalExpectedPurchases(
            t: t,
            histories: histories,
            alive: probabilitiesAlive(for: customers)
        )
    }

    /// ``conditionalExpectedPurchases(t:for:histories:)`` with every customer's P(alive) already at hand.
    func conditionalExpectedPurchases(t: Double, histories: DistinctHistories, alive: [Double]) -> [Double] {
        guard t > 0 else { return Array(repeating: t == 0 ? 0 : .nan, count: alive.count) }
        let ifAlive = histories.evaluate { expectedPurchasesIfAlive(t: t, x: $0.frequency, T: $0.age) }
        return ParallelChunks.array(count: alive.count) { i in alive[i] * ifAlive[Int(histories.index[i])] }
    }

    /// P(alive) times the expectation if alive: the expected repeat purchases in the next `t` time units of a
    /// summarised customer (lifetimes' `conditional_expected_number_of_purchases_up_to_time`); NaN for `t` < 0.
    public func conditionalExpectedPurchases(t: Double, for customer: TransactionSummary) -> Double {
        guard t > 0 else { return t == 0 ? 0 : .nan }
        return probabilityAlive(x: customer.frequency, tx: customer.recency, T: customer.age)
            * expectedPurchasesIfAlive(t: t, x: customer.frequency, T: customer.age)
    }
}

extension BGNBD: PurchaseModel {
    public static let kind = PurchaseModelKind.bgnbd
    public var namedParameters: [String: Double] { ["r": r, "alpha": alpha, "a": a, "b": b] }
}

extension MBGNBD: PurchaseModel {
    public static let kind = PurchaseModelKind.mbgnbd
    public var namedParameters: [String: Double] { ["r": r, "alpha": alpha, "a": a, "b": b] }
}

extension ParetoNBD: PurchaseModel {
    public static let kind = PurchaseModelKind.paretoNBD
    public var namedParameters: [String: Double] { ["r": r, "alpha": alpha, "s": s, "beta": beta] }
}
