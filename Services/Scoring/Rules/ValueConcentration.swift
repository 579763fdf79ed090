import CRMSupport

/// How concentrated value is across a base: the share the top customers hold, and the Gini coefficient.
///
/// Values below zero (a customer whose refunds or costs outweigh its purchases) count as zero: concentration
/// measures how value is shared, and a negative share has no place in a Lorenz curve.
public struct ValueConcentration: Sendable, Hashable {
    /// Customers measured.
    public var customers: Int
    /// The sum of their values (negatives counted as zero).
    public var total: Double
    /// The share of `total` held by the top fifth of customers by value: the ⌈0.2 n⌉ highest values; 0 when the
    /// total is 0.
    public var top20Share: Double
    /// The Gini coefficient of the values, 0 (all equal) to (n − 1) / n (one customer holds everything); 0 when
    /// the total is 0.
    public var gini: Double

    /// Measures `values` (any order); sorts a copy, O(n log n).
    public init(_ values: [Double]) {
        var sorted = values.map { max($0, 0) }
        sorted.sort()
        let n = sorted.count
        customers = n
        var total = 0.0
        var weighted = 0.0
        for (index, value) in sorted.enumerated() {
            total += value
            weighted += Double(index + 1) * value
        }
        self.total = total
        guard n > 0, total > 0 else {
            top20Share = 0
            gini = 0
            return
        }
        let top = Int((Double(n) * 0.2).rounded(.up))
        top20Share = sorted[(n - top)...].reduce(0, +) / total
        // G = 2 Σ i x_(i) / (n Σ x) − (n + 1) / n, with x sorted ascending and i from 1.
        gini = 2 * weighted / (Double(n) * total) - Double(n + 1) / Double(n)
    }
}
