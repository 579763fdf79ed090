/// The distribution of the base's predicted values as a full rescoring found it, kept in its model: what the customer
/// object's `three_degree.contribution` (a predicted value's percentile in the base) is read from by binary search
/// for any customer, rather than by counting the base at every request.
///
/// `breakpoints[i]` is the value below which a share of i ÷ ``resolution`` of the customers lie (the first is the
/// smallest value, the last the largest). ``percentile(of:)`` interpolates linearly between the two around a value:
/// exact at the breakpoints and within 1 ÷ ``resolution`` between them.
public struct ValueQuantiles: Hashable, Sendable, Codable {
    /// The values the breakpoints were drawn from.
    public let count: Int
    /// ``resolution`` + 1 values in ascending order (fewer when the base had fewer values).
    public let breakpoints: [Double]

    /// Intervals between breakpoints: percentiles are within 0.1% of the exact ones.
    public static let resolution = 1_000

    /// The quantiles of `values` (the finite ones); nil without any.
    public init?(values: [Double]) {
        var sorted = values.filter(\.isFinite)
        guard !sorted.isEmpty else { return nil }
        sorted.sort()
        count = sorted.count
        let intervals = min(Self.resolution, sorted.count - 1)
        guard intervals > 0 else {
            breakpoints = [sorted[0]]
            return
        }
        breakpoints = (0...intervals).map { index in
            sorted[Int((Double(index) * Double(sorted.count - 1) / Double(intervals)).rounded())]
        }
    }

    /// The share of the base with a value below `value`, 0...1, to four decimals: 0 at or below the smallest, 1
    /// above the largest, and between two breakpoints a straight line.
    public func percentile(of value: Double) -> Double {
        guard let first = breakpoints.first, let last = breakpoints.last, value > first else { return 0 }
        guard value <= last else { return 1 }
        // The last breakpoint below `value` (binary search), then a straight line to the next.
        var low = 0
        var high = breakpoints.count - 1
        while high - low > 1 {
            let middle = (low + high) / 2
            if breakpoints[middle] < value { low = middle } else { high = middle }
        }
        let span = breakpoints[high] - breakpoints[low]
        let fraction = span > 0 ? (value - breakpoints[low]) / span : 0
        return ((Double(low) + fraction) / Double(breakpoints.count - 1) * 10_000).rounded() / 10_000
    }
}
