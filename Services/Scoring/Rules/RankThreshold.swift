import CRMSupport

// MARK: - The ranking convention shared by RFM quintiles and value tiers

/// How every base-relative score in this module is cut: by the share of the base strictly worse.
///
/// A customer clears the bar "at least `share` of the base is strictly worse than me". With the
/// base sorted worst first, that is the same as being strictly better than the value at position
/// `ceil(share × n) − 1`, so a cut-off is one stored number and scoring a customer is a comparison.
///
/// Why strictly worse: equal values always land on the same side of every cut-off, so ties are
/// never split by arrival order or customer id, and a result depends on the value alone. The cost
/// is that a tie group straddling a cut-off falls entirely below it; with heavy ties (most
/// customers buying once) a bucket can be empty and scores skip, which is the honest answer.
enum RankThreshold {
    /// The cut-off value for each of `shares` ("at least `share` of the base is strictly worse"): the value at
    /// position `ceil(share × n) − 1` of the finite `values` sorted worst first; all nil when there is none
    /// (nobody can clear a bar set by nobody).
    ///
    /// Found by selection rather than a sort: a few order statistics of a base of a million cost a few passes
    /// over it. Each `share` must be in `0 < share ≤ 1`; callers validate their settings, so a share outside that
    /// range is clamped rather than trapped on.
    static func cutoffs(_ values: some Sequence<Double>, direction: ScoreDirection, shares: [Double]) -> [Double?] {
        // Worst first is ascending order of these keys: values where lower is better are negated (exact).
        var keys = values.compactMap { value -> Double? in
            guard value.isFinite else { return nil }
            return direction == .higherIsBetter ? value : -value
        }
        guard !keys.isEmpty else { return shares.map { _ in nil } }
        let positions = shares.map { min(max(requiredWorseCount(share: $0, baseSize: keys.count), 1), keys.count) - 1 }
        var selected: [Int: Double] = [:]
        keys.withUnsafeMutableBufferPointer { keys in
            // After a selection nothing beyond the position is smaller, so the next (larger) one searches there.
            var lower = 0
            for position in Set(positions).sorted() {
                select(position, in: keys, from: lower)
                selected[position] = keys[position]
                lower = position + 1
            }
        }
        return positions.map { direction == .higherIsBetter ? selected[$0]! : -selected[$0]! }
    }

    /// Rearranges `keys[lower...]` so that `keys[position]` holds what a sort would put there, with nothing greater
    /// before it and nothing smaller after it. Quickselect with a three-way partition, so ties cost nothing extra.
    private static func select(_ position: Int, in keys: UnsafeMutableBufferPointer<Double>, from lower: Int) {
        var (low, high) = (lower, keys.count)
        while high - low > 1 {
            let (first, middle, last) = (keys[low], keys[low + (high - low) / 2], keys[high - 1])
            let pivot = max(min(first, middle), min(max(first, middle), last))  // median of three
            // [low, less) < pivot, [less, next) == pivot, [greater, high) > pivot.
            var (less, next, greater) = (low, low, high)
            while next < greater {
                if keys[next] < pivot {
                    keys.swapAt(next, less)
                    less += 1
                    next += 1
                } else if keys[next] > pivot {
                    greater -= 1
                    keys.swapAt(next, greater)
                } else {
                    next += 1
                }
            }
            if position < less {
                high = less
            } else if position >= greater {
                low = greater
            } else {
                return
            }
        }
    }

    /// `ceil(share × baseSize)`, robust to binary fractions: 0.7 × 10 is 7.000000000000001 in a
    /// `Double`, and a naive `ceil` would demand 8 customers below instead of 7.
    static func requiredWorseCount(share: Double, baseSize: Int) -> Int {
        let exact = share * Double(baseSize)
        let tolerance = 1e-9 * max(1, exact)
        return Int((exact - tolerance).rounded(.up))
    }
}

/// Which way a raw measure is good: more spend is better, more days since the last order is worse.
public enum ScoreDirection: String, Codable, Hashable, Sendable {
    /// Larger values score higher (frequency, monetary, lifetime value).
    case higherIsBetter = "higher_is_better"
    /// Smaller values score higher (recency in days).
    case lowerIsBetter = "lower_is_better"

    /// True when `value` is strictly better than `reference` in this direction.
    func isStrictlyBetter(_ value: Double, than reference: Double) -> Bool {
        switch self {
        case .higherIsBetter: return value > reference
        case .lowerIsBetter: return value < reference
        }
    }

    /// True when `later` is no better than `earlier`, i.e. a cut-off list is in worst-to-best order.
    func isOrderedWorstToBest(_ earlier: Double, _ later: Double) -> Bool {
        !isStrictlyBetter(earlier, than: later)
    }
}
