/// A level on either axis of the nine-grid.
public enum GridLevel: String, Codable, Hashable, Sendable, CaseIterable {
    case high
    case mid
    case low
}

/// What the nine-grid's second axis measures for a customer.
public enum GridAxis: String, Codable, Hashable, Sendable, CaseIterable {
    /// Margin rate, used wherever every order carries cost.
    case profitability
    /// Value trend (spend per day, recent against earlier), used where cost is unknown.
    case growth
}

/// The commercial strategy a nine-grid cell prescribes.
public enum GridStrategy: String, Codable, Hashable, Sendable, CaseIterable {
    /// Spend to keep and expand: valuable and profitable or growing.
    case invest
    /// Grow the relationship: profitable or growing, not yet valuable.
    case develop
    /// Keep the relationship as it is, at its current cost.
    case maintain
    /// Keep the customer but lower the cost to serve.
    case reduceCost = "reduce_cost"
    /// Stop spending to retain: little value and no margin or momentum.
    case exit
}

/// A cell of the nine-grid: value level crossed with profitability or growth, with its strategy.
///
/// Its `id` is `<value>-<second>`, for example `high-mid` (value high, second axis mid); `axis`
/// says what the second level measured. The two tables differ only where the axes mean different
/// things: a valuable customer with a thin margin costs too much to serve (reduce cost), while a
/// valuable customer whose spend is falling is one to keep (maintain; the retention alerts act).
///
/// Profitability (margin rate ≥ `highMarginRate` high, < `lowMarginRate` low, else mid):
///
/// | value \ margin | high    | mid         | low         |
/// |----------------|---------|-------------|-------------|
/// | high (gold)    | invest  | maintain    | reduce_cost |
/// | mid (silver)   | develop | maintain    | reduce_cost |
/// | low (bronze)   | develop | reduce_cost | exit        |
///
/// Growth (spend trend rising high, stable or unknown mid, falling low):
///
/// | value \ trend  | rising  | stable      | falling     |
/// |----------------|---------|-------------|-------------|
/// | high (gold)    | invest  | maintain    | maintain    |
/// | mid (silver)   | develop | maintain    | reduce_cost |
/// | low (bronze)   | develop | reduce_cost | exit        |
public struct NineGridCell: Hashable, Sendable, Codable {
    /// The value level: the tier.
    public var value: GridLevel
    /// The profitability or growth level.
    public var second: GridLevel
    /// Which measure the second level is.
    public var axis: GridAxis

    /// Creates a cell.
    public init(value: GridLevel, second: GridLevel, axis: GridAxis) {
        self.value = value
        self.second = second
        self.axis = axis
    }

    /// Parses a stored id such as `high-mid`; nil for anything else.
    public init?(id: String, axis: GridAxis) {
        let parts = id.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let value = GridLevel(rawValue: String(parts[0])),
            let second = GridLevel(rawValue: String(parts[1]))
        else { return nil }
        self.init(value: value, second: second, axis: axis)
    }

    /// The public `grid` value, `<value>-<second>`.
    public var id: String { Self.ids[index] }

    /// The cell's place among the nine, 0 to 8: the value's level, then the second axis's (high, mid, low).
    public var index: Int { Self.levelIndex(value) * 3 + Self.levelIndex(second) }

    /// The ids of the nine cells by ``index``, made once: a full rescoring asks for a million.
    static let ids = GridLevel.allCases.flatMap { value in
        GridLevel.allCases.map { "\(value.rawValue)-\($0.rawValue)" }
    }

    private static func levelIndex(_ level: GridLevel) -> Int {
        switch level {
        case .high: 0
        case .mid: 1
        case .low: 2
        }
    }

    /// The strategy of this cell, from the table of its axis.
    public var strategy: GridStrategy {
        switch (value, second) {
        case (.high, .high): return .invest
        case (.high, .mid), (.mid, .mid): return .maintain
        case (.high, .low): return axis == .profitability ? .reduceCost : .maintain
        case (.mid, .high), (.low, .high): return .develop
        case (.mid, .low), (.low, .mid): return .reduceCost
        case (.low, .low): return .exit
        }
    }
}
