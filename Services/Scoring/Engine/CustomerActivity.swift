import CRMSupport
import Foundation

/// One calendar day (UTC) of a customer's stored orders, as the aggregation query returns it.
///
/// An order's value is its margin (amount − cost) where it carries a cost and its amount where not;
/// amounts are in the base currency. A day with purchases is one transaction, however many orders it holds.
struct OrderDay: Sendable, Hashable {
    /// Days since 1970-01-01 (UTC).
    var day: Int
    /// Purchase orders on the day.
    var purchases = 0
    /// Σ amount of the day's purchases.
    var revenue = 0.0
    /// Σ value of the day's purchases.
    var value = 0.0
    /// Σ amount of the day's refunds.
    var refundedRevenue = 0.0
    /// Σ value of the day's refunds.
    var refundedValue = 0.0
    /// Net amount (purchases − refunds) of the orders that carry a cost.
    var costedRevenue = 0.0
    /// Net margin of the orders that carry a cost.
    var costedMargin = 0.0
    /// Whether any order of the day carries a cost.
    var hasCost = false
    /// The first and last purchase of the day, seconds since 1970; nil on a day of refunds only.
    var firstPurchaseAt: Double?
    var lastPurchaseAt: Double?

    /// Adds one order at `time` (seconds since 1970) of `amount`, with its `cost` when known.
    mutating func add(time: Double, isPurchase: Bool, amount: Double, cost: Double?) {
        let orderValue = amount - (cost ?? 0)
        if isPurchase {
            purchases += 1
            revenue += amount
            value += orderValue
            firstPurchaseAt = min(firstPurchaseAt ?? time, time)
            lastPurchaseAt = max(lastPurchaseAt ?? time, time)
        } else {
            refundedRevenue += amount
            refundedValue += orderValue
        }
        if cost != nil {
            hasCost = true
            costedRevenue += isPurchase ? amount : -amount
            costedMargin += isPurchase ? orderValue : -orderValue
        }
    }
}

/// Everything the scoring needs to know about one customer's orders as of a time, built from its order days.
public struct CustomerActivity: Sendable, Hashable {
    /// Purchase orders.
    public var orderCount = 0
    /// Distinct purchase days: transactions, the first included.
    public var transactions = 0
    /// First and last purchase.
    public var firstPurchaseAt: Date?
    public var lastPurchaseAt: Date?
    /// Net revenue: purchases minus refunds.
    public var netRevenue = 0.0
    /// Net value: margin where orders carry a cost, revenue where not; refunds subtracted.
    public var netValue = 0.0
    /// Margin over revenue of the orders that carry a cost; nil when none does.
    public var marginRate: Double?
    /// The BG/NBD and Gamma-Gamma summary in the model's time unit; nil without purchases.
    public var summary: TransactionSummary?
    /// Purchase activity in the recent window and before it, for the lifecycle trends.
    public var recent = ActivityWindow.empty
    public var earlier = ActivityWindow.empty
    /// Mean days between purchase days; nil before a repeat.
    public var expectedIntervalDays: Double?

    /// No orders at all.
    public static let none = CustomerActivity()

    /// Repeat transactions: purchase days after the first.
    public var repeatTransactions: Int { max(transactions - 1, 0) }
}

extension CustomerActivity {
    /// What a customer's counted orders add up to, whatever the days: the totals beside its purchase days.
    struct Totals: Sendable, Hashable {
        /// Purchase orders.
        var orderCount = 0
        /// The first and last purchase, seconds since 1970.
        var firstPurchaseAt: Double?
        var lastPurchaseAt: Double?
        /// Purchases minus refunds, by amount and by value.
        var netRevenue = 0.0
        var netValue = 0.0
        /// The same net sums over the orders that carry a cost, and whether any does.
        var costedRevenue = 0.0
        var costedMargin = 0.0
        var hasCost = false
    }

    /// Builds the activity from a customer's order days sorted by day, as of the end of `asOfDay`.
    ///
    /// Days after `asOfDay` must already be left out (the query does).
    init(days: some Collection<OrderDay>, asOfDay: Int, unit: TimeUnit, lifecycle: LifecycleSettings) {
        var totals = Totals()
        for day in days {
            totals.netRevenue += day.revenue - day.refundedRevenue
            totals.netValue += day.value - day.refundedValue
            totals.costedRevenue += day.costedRevenue
            totals.costedMargin += day.costedMargin
            totals.hasCost = totals.hasCost || day.hasCost
            guard day.purchases > 0 else { continue }
            totals.orderCount += day.purchases
            if totals.firstPurchaseAt == nil { totals.firstPurchaseAt = day.firstPurchaseAt }
            if let last = day.lastPurchaseAt { totals.lastPurchaseAt = last }
        }
        self.init(
            totals: totals,
            purchaseDays: days.lazy.filter { $0.purchases > 0 }.map { (day: $0.day, value: $0.value) },
            asOfDay: asOfDay,
            unit: unit,
            lifecycle: lifecycle
        )
    }

    /// Builds the activity from a customer's totals and purchase days (ascending, each with the value of its
    /// purchases), as of the end of `asOfDay`: what `customer_activity` stores, and what the order days add up to.
    ///
    /// The first purchase day is not a repeat and its value does not enter the Gamma-Gamma monetary value; a repeat
    /// day's value enters it floored at zero, since a spend model has no negative spend.
    init(
        totals: Totals,
        purchaseDays: some Collection<(day: Int, value: Double)>,
        asOfDay: Int,
        unit: TimeUnit,
        lifecycle: LifecycleSettings
    ) {
        var activity = CustomerActivity()
        activity.orderCount = totals.orderCount
        activity.firstPurchaseAt = totals.firstPurchaseAt.map(Date.init(timeIntervalSince1970:))
        activity.lastPurchaseAt = totals.lastPurchaseAt.map(Date.init(timeIntervalSince1970:))
        activity.netRevenue = totals.netRevenue
        activity.netValue = totals.netValue
        if totals.hasCost, totals.costedRevenue > 0 { activity.marginRate = totals.costedMargin / totals.costedRevenue }
        guard let firstDay = purchaseDays.first?.day else {
            self = activity
            return
        }
        var lastDay = firstDay
        var repeatValue = 0.0
        for purchase in purchaseDays.dropFirst() {
            repeatValue += max(purchase.value, 0)
            lastDay = purchase.day
        }
        activity.transactions = purchaseDays.count
        let repeats = activity.repeatTransactions
        activity.summary = TransactionSummary(
            frequency: repeats,
            recency: Double(lastDay - firstDay) / unit.days,
            age: Double(max(asOfDay, lastDay) - firstDay) / unit.days,
            monetaryValue: repeats > 0 ? repeatValue / Double(repeats) : 0
        )
        if repeats > 0 { activity.expectedIntervalDays = Double(lastDay - firstDay) / Double(repeats) }

        // The recent window reaches back max(minimum, k × the customer's own interval); the rest is "earlier".
        let window = Int(lifecycle.recentWindowDays(expectedIntervalDays: activity.expectedIntervalDays).rounded(.up))
        let boundary = asOfDay - window
        var recent = (purchases: 0, spend: 0.0)
        var earlier = (purchases: 0, spend: 0.0)
        for purchase in purchaseDays {
            if purchase.day > boundary {
                recent.purchases += 1
                recent.spend += purchase.value
            } else {
                earlier.purchases += 1
                earlier.spend += purchase.value
            }
        }
        activity.recent = ActivityWindow(
            days: Double(min(window, asOfDay - firstDay + 1)),
            purchases: recent.purchases,
            spend: recent.spend
        )
        activity.earlier = ActivityWindow(
            days: Double(max(boundary - firstDay + 1, 0)),
            purchases: earlier.purchases,
            spend: earlier.spend
        )
        self = activity
    }
}

extension OrderDay {
    /// Adds the orders of `other`, the same day's.
    mutating func merge(_ other: OrderDay) {
        purchases += other.purchases
        revenue += other.revenue
        value += other.value
        refundedRevenue += other.refundedRevenue
        refundedValue += other.refundedValue
        costedRevenue += other.costedRevenue
        costedMargin += other.costedMargin
        hasCost = hasCost || other.hasCost
        if let first = other.firstPurchaseAt { firstPurchaseAt = min(firstPurchaseAt ?? first, first) }
        if let last = other.lastPurchaseAt { lastPurchaseAt = max(lastPurchaseAt ?? last, last) }
    }
}

/// Folds one customer's orders into its ``CustomerActivity`` as of a time: what a full rescoring does with the
/// order stream PostgreSQL sorts, and what any other source of orders (a file, a test) can do the same way.
///
/// Orders are grouped into UTC days as they come; orders in time order cost nothing more, others a sort of the
/// customer's days at ``finish()``. Orders after the as-of time must be left out by the caller.
public struct ActivityBuilder: Sendable {
    private let asOfDay: Int
    private let unit: TimeUnit
    private let lifecycle: LifecycleSettings
    private var days: [OrderDay] = []
    private var inOrder = true

    /// A builder for activities as of `asOf`, in the units and windows of `settings`.
    public init(asOf: Date, settings: ScoringConfiguration) {
        asOfDay = Int((asOf.timeIntervalSince1970 / 86_400).rounded(.down))
        unit = settings.timeUnit
        lifecycle = settings.lifecycle
    }

    /// Adds one order of the current customer: at `time` (seconds since 1970), a purchase or a refund of
    /// `amount` in the base currency, with its `cost` when known.
    public mutating func add(time: Double, isPurchase: Bool, amount: Double, cost: Double?) {
        let day = Int((time / 86_400).rounded(.down))
        if let last = days.last?.day {
            if last == day {
                days[days.count - 1].add(time: time, isPurchase: isPurchase, amount: amount, cost: cost)
                return
            }
            if day < last { inOrder = false }
        }
        var orderDay = OrderDay(day: day)
        orderDay.add(time: time, isPurchase: isPurchase, amount: amount, cost: cost)
        days.append(orderDay)
    }

    /// The purchase days of the orders added since the previous ``finish()``, in no particular order; or a customer's
    /// stored purchase days (`customer_activity`).
    public struct PurchaseDays: Sequence, Sendable {
        fileprivate enum Days: Sendable {
            case orders([OrderDay])
            case stored([(day: Int, value: Double)])
        }
        private let days: Days

        fileprivate init(orders: [OrderDay]) { days = .orders(orders) }

        /// Stored purchase days, each with its value.
        init(_ days: [(day: Int, value: Double)]) { self.days = .stored(days) }

        /// Days since 1970-01-01 (UTC) with at least one purchase; a day may come twice when its orders did not
        /// arrive in time order.
        public func makeIterator() -> Iterator { Iterator(days: days) }

        public struct Iterator: IteratorProtocol {
            fileprivate let days: Days
            private var index = 0

            fileprivate init(days: Days) { self.days = days }

            public mutating func next() -> Int? {
                switch days {
                case .stored(let stored):
                    guard index < stored.count else { return nil }
                    defer { index += 1 }
                    return stored[index].day
                case .orders(let orders):
                    while index < orders.count {
                        defer { index += 1 }
                        if orders[index].purchases > 0 { return orders[index].day }
                    }
                    return nil
                }
            }
        }
    }

    /// Lets `body` see the purchase days of the current customer before ``finish()``.
    public func withPurchaseDays(_ body: (PurchaseDays) -> Void) {
        body(PurchaseDays(orders: days))
    }

    /// The activity of the orders added since the previous call (``CustomerActivity/none`` without any); the
    /// builder is then ready for the next customer.
    public mutating func finish() -> CustomerActivity {
        defer {
            days.removeAll(keepingCapacity: true)
            inOrder = true
        }
        guard !days.isEmpty else { return .none }
        if !inOrder {
            days.sort { $0.day < $1.day }
            var merged: [OrderDay] = []
            for day in days {
                if merged.last?.day == day.day { merged[merged.count - 1].merge(day) } else { merged.append(day) }
            }
            days = merged
        }
        return CustomerActivity(days: days, asOfDay: asOfDay, unit: unit, lifecycle: lifecycle)
    }
}
