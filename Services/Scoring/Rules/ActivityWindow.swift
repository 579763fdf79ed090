/// A customer's purchases and spend within one stretch of time, for comparing them with their own past.
///
/// The lifecycle compares a recent window (see ``LifecycleSettings/recentWindowDays(expectedIntervalDays:)``)
/// with everything before it. Rates are per day, so windows of different lengths compare fairly.
public struct ActivityWindow: Hashable, Sendable, Codable {
    /// Length of the window in days; for the earlier window, from the first purchase to the recent window.
    public var days: Double
    /// Purchases in the window.
    public var purchases: Int
    /// Net spend in the window, currency units (margin where every order carries cost).
    public var spend: Double

    /// Creates a window; negative lengths and counts are raised to 0.
    public init(days: Double, purchases: Int, spend: Double) {
        self.days = max(days, 0)
        self.purchases = max(purchases, 0)
        self.spend = spend
    }

    /// An empty window, for a customer with no history before the recent window.
    public static let empty = ActivityWindow(days: 0, purchases: 0, spend: 0)

    /// Purchases per day, or nil for a window of no length.
    public var purchaseRate: Double? { days > 0 ? Double(purchases) / days : nil }

    /// Spend per day, or nil for a window of no length.
    public var spendRate: Double? { days > 0 ? spend / days : nil }
}

/// Whether a customer's activity is rising, stable or falling against their own earlier activity.
public enum ValueTrend: String, Codable, Hashable, Sendable, CaseIterable {
    /// Recent rate at least `trendRatio` times the earlier rate.
    case rising
    /// Within a factor `trendRatio` either way.
    case stable
    /// Recent rate at most the earlier rate divided by `trendRatio`.
    case falling

    /// Compares two rates with a symmetric ratio; nil when there is no earlier rate to compare with.
    ///
    /// The comparison is symmetric in the ratio (×1.5 up is rising, ÷1.5 down is falling) so that
    /// growth and decline need equally strong evidence. Both boundaries are inclusive.
    static func compare(recent: Double?, earlier: Double?, ratio: Double) -> ValueTrend? {
        guard let recent, let earlier, earlier > 0 else { return nil }
        if recent >= earlier * ratio { return .rising }
        if recent * ratio <= earlier { return .falling }
        return .stable
    }
}

/// Frequency and spend trends of one customer; each nil when the earlier history is too thin to judge.
public struct ActivityTrends: Hashable, Sendable {
    /// Trend of purchases per day.
    public var frequency: ValueTrend?
    /// Trend of spend per day: the customer's value trend, also the nine-grid's growth axis.
    public var spend: ValueTrend?

    /// Compares `recent` with `earlier`; an earlier window with fewer than `minimumEarlierPurchases`
    /// purchases yields no trend, because one old purchase says nothing about a rate.
    public init(recent: ActivityWindow, earlier: ActivityWindow, ratio: Double, minimumEarlierPurchases: Int) {
        guard earlier.purchases >= max(minimumEarlierPurchases, 1) else {
            self.frequency = nil
            self.spend = nil
            return
        }
        self.frequency = ValueTrend.compare(recent: recent.purchaseRate, earlier: earlier.purchaseRate, ratio: ratio)
        self.spend = ValueTrend.compare(recent: recent.spendRate, earlier: earlier.spendRate, ratio: ratio)
    }
}
