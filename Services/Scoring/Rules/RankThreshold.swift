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
    /// The cut-off value for "at least `share` of `sortedWorstFirst` is strictly worse", or nil when
    /// the base is empty (nobody can clear a bar set by nobody).
    ///
    /// `share` must be in `0 < share ≤ 1`; callers validate their settings, so a share outside that
    /// range is clamped rather than trapped on.
    static func cutoff(sortedWorstFirst values: [Double], share: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let position = requiredWorseCount(share: share, baseSize: values.count)
        return values[min(max(position, 1), values.count) - 1]
    }

    /// `ceil(share × baseSize)`, robust to binary fractions: 0.7 × 10 is 7.000000000000001 in a
    /// `Double`, and a naive `ceil` would demand 8 customers below instead of 7.
    static func requiredWorseCount(share: Double, baseSize: Int) -> Int {
        let exact = share * Double(baseSize)
        let tolerance = 1e-9 * max(1, exact)
        return Int((exact - tolerance).rounded(.up))
    }

    /// Finite values of `values`, sorted so the worst comes first under `direction`.
    static func sortedWorstFirst(_ values: some Sequence<Double>, direction: ScoreDirection) -> [Double] {
        let finite = values.filter(\.isFinite)
        switch direction {
        case .higherIsBetter: return finite.sorted(by: <)
        case .lowerIsBetter: return finite.sorted(by: >)
        }
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
