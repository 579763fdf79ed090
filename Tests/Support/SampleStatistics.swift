/// The order statistics the benchmarks print.
public enum SampleStatistics {
    /// The nearest-rank percentile of `values` (`fraction` 0.99 for p99); NaN for none. `values` need not be sorted.
    public static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(max(Int((Double(sorted.count) * fraction).rounded(.up)) - 1, 0), sorted.count - 1)]
    }

    /// The median: the middle value, or the mean of the two middle ones; NaN for none.
    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
