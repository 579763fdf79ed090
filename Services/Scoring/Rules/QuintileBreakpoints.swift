import CRMContract
import CRMSupport

/// The four cut-offs that split one measure of the customer base into scores 1 to 5.
///
/// A customer scores `1 + ⌊5 × (share of the base strictly worse)⌋`, capped at 5: a 5 means at
/// least 80 % of the base is strictly worse. Ties share a score (see ``RankThreshold``); a base of
/// fewer than five customers cannot fill five buckets, and an empty base scores everyone 1.
/// The value is `Codable` so a full rescoring can store it and incremental scoring can reuse it.
public struct QuintileBreakpoints: Hashable, Sendable {
    /// Whether larger raw values are better.
    public let direction: ScoreDirection
    /// Four cut-offs ordered worst to best, or empty for an empty base; score = 1 + cut-offs beaten.
    public let cutoffs: [Double]

    /// Computes the cut-offs from every customer's raw value; non-finite values are ignored. O(n).
    public init(values: some Sequence<Double>, direction: ScoreDirection) {
        self.direction = direction
        self.cutoffs = RankThreshold.cutoffs(values, direction: direction, shares: [0.2, 0.4, 0.6, 0.8]).compactMap {
            $0
        }
    }

    /// Restores stored cut-offs, checking there are none or four and that they run worst to best.
    public init(direction: ScoreDirection, cutoffs: [Double]) throws {
        let ordered = zip(cutoffs, cutoffs.dropFirst()).allSatisfy { direction.isOrderedWorstToBest($0, $1) }
        guard cutoffs.isEmpty || (cutoffs.count == 4 && cutoffs.allSatisfy(\.isFinite) && ordered) else {
            throw ScoringRulesError(
                code: .invalidStoredValue,
                context: "quintile breakpoints need 0 or 4 finite cut-offs ordered worst to best, got \(cutoffs)"
            )
        }
        self.direction = direction
        self.cutoffs = cutoffs
    }

    /// The score 1...5 of `value`: one plus the number of cut-offs it strictly beats. O(log 4).
    public func score(_ value: Double) -> Int {
        // "Beats cut-off i" holds for a prefix of the worst-to-best list, so binary search finds its end.
        var low = 0
        var high = cutoffs.count
        while low < high {
            let middle = (low + high) / 2
            if direction.isStrictlyBetter(value, than: cutoffs[middle]) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return 1 + low
    }
}

// MARK: - Codable

extension QuintileBreakpoints: Codable {
    enum CodingKeys: String, CodingKey {
        case direction
        case cutoffs
    }

    /// Decodes and re-validates, so a hand-edited or corrupted row fails loudly instead of scoring wrongly.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        do {
            try self.init(
                direction: try container.decode(ScoreDirection.self, forKey: .direction),
                cutoffs: try container.decode([Double].self, forKey: .cutoffs)
            )
        } catch let error as ScoringRulesError {
            throw DecodingError.dataCorruptedError(forKey: .cutoffs, in: container, debugDescription: error.context)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(direction, forKey: .direction)
        try container.encode(cutoffs, forKey: .cutoffs)
    }
}
