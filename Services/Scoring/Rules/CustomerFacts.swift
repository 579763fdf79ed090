import CRMContract
import Foundation

/// Everything the lifecycle and tier rules know about one customer at one scoring, as plain numbers.
///
/// The scoring service derives these from the stored orders and the model; the rules never read a
/// database. Money is in currency units and net of refunds.
public struct CustomerFacts: Hashable, Sendable {
    /// The scoring time: the wall clock, or the as-of time of a replay.
    public var asOf: Date
    /// Purchases so far (refunds lower value, not this count).
    public var orderCount: Int
    /// Repeat purchases, as the model counts them (purchase days after the first); 0 for one-time buyers.
    public var repeatTransactions: Int
    /// The first purchase, nil for a potential customer.
    public var firstOrderAt: Date?
    /// The most recent purchase, nil for a potential customer.
    public var lastOrderAt: Date?
    /// Net revenue so far, currency units.
    public var netRevenue: Double
    /// Net margin so far, currency units, only when every counted order carries `cost`.
    public var netMargin: Double?
    /// Activity in the recent window, sized by ``LifecycleSettings/recentWindowDays(expectedIntervalDays:)``.
    public var recent: ActivityWindow
    /// Activity from the first purchase up to the start of the recent window.
    public var earlier: ActivityWindow
    /// Probability the customer is still active, from the model; nil before the model is fitted.
    public var pAlive: Double?
    /// The customer's own typical days between purchases; the mean gap unless the service knows better.
    ///
    /// See ``meanIntervalDays(firstOrderAt:lastOrderAt:repeatTransactions:)``.
    public var expectedIntervalDays: Double?
    /// The customer's value tier from the current cut-offs; the maturity rule reads it as "share of value".
    public var valueTier: ValueTier?
    /// What the previous scoring concluded, nil for a customer scored for the first time.
    public var previous: PreviousScoring?

    /// Creates facts; only the scoring time is required, everything else defaults to "unknown / none".
    ///
    /// `repeatTransactions` defaults to `orderCount − 1`; pass the model's count where purchases on
    /// one day count once.
    public init(
        asOf: Date,
        orderCount: Int = 0,
        repeatTransactions: Int? = nil,
        firstOrderAt: Date? = nil,
        lastOrderAt: Date? = nil,
        netRevenue: Double = 0,
        netMargin: Double? = nil,
        recent: ActivityWindow = .empty,
        earlier: ActivityWindow = .empty,
        pAlive: Double? = nil,
        expectedIntervalDays: Double? = nil,
        valueTier: ValueTier? = nil,
        previous: PreviousScoring? = nil
    ) {
        self.asOf = asOf
        self.orderCount = max(orderCount, 0)
        self.repeatTransactions = max(repeatTransactions ?? (orderCount - 1), 0)
        self.firstOrderAt = firstOrderAt
        self.lastOrderAt = lastOrderAt
        self.netRevenue = netRevenue
        self.netMargin = netMargin
        self.recent = recent
        self.earlier = earlier
        self.pAlive = pAlive
        self.expectedIntervalDays = expectedIntervalDays
        self.valueTier = valueTier
        self.previous = previous
    }

    /// Days from the last purchase to `asOf`, never negative; nil without a purchase.
    public var daysSinceLastOrder: Double? {
        lastOrderAt.map { max(0, asOf.timeIntervalSince($0) / 86_400) }
    }

    /// Net value realised so far (`clv.historical`): margin when known, revenue otherwise.
    public var historicalValue: Double { netMargin ?? netRevenue }

    /// Margin ÷ revenue, or nil when cost is unknown or there is no positive revenue to divide by.
    public var marginRate: Double? {
        guard let netMargin, netRevenue > 0 else { return nil }
        return netMargin / netRevenue
    }

    /// True when the last purchase is newer than the one the previous scoring saw.
    ///
    /// Compares purchase dates, not counts: a late-arriving old order raises the count but is not
    /// a return. Without a previous scoring every purchase is new.
    public var boughtSincePreviousScoring: Bool {
        guard let lastOrderAt else { return false }
        guard let previousLast = previous?.lastOrderAt else { return true }
        return lastOrderAt > previousLast
    }

    /// The mean gap in days between purchases, (last − first) ÷ repeats; nil for fewer than one repeat.
    public static func meanIntervalDays(firstOrderAt: Date?, lastOrderAt: Date?, repeatTransactions: Int) -> Double? {
        guard let firstOrderAt, let lastOrderAt, repeatTransactions > 0 else { return nil }
        return lastOrderAt.timeIntervalSince(firstOrderAt) / 86_400 / Double(repeatTransactions)
    }
}

/// What the previous scoring concluded about a customer, for rules that look at change.
public struct PreviousScoring: Hashable, Sendable, Codable {
    /// The stage assigned last time.
    public var stage: LifecycleStage
    /// p_alive last time; nil when the model was not fitted then.
    public var pAlive: Double?
    /// The last purchase known last time; nil when there was none.
    public var lastOrderAt: Date?

    /// Creates the previous state.
    public init(stage: LifecycleStage, pAlive: Double? = nil, lastOrderAt: Date? = nil) {
        self.stage = stage
        self.pAlive = pAlive
        self.lastOrderAt = lastOrderAt
    }
}
