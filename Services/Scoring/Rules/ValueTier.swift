/// A customer's value tier; raw values are the public `tier` strings. Ordered bronze < silver < gold.
///
/// With the default shares: gold is the top 20 % of the base by value, silver the next 30 % (the
/// rest of the upper half), bronze the lower half and everyone without positive value.
public enum ValueTier: String, Codable, Hashable, Sendable, CaseIterable, Comparable {
    /// The lower half by value, and every customer with no positive value.
    case bronze
    /// The next `silverShare` (default 30 %) below gold.
    case silver
    /// The top `goldShare` (default 20 %) by value.
    case gold

    /// 0 for bronze up to 2 for gold.
    var rank: Int {
        switch self {
        case .bronze: return 0
        case .silver: return 1
        case .gold: return 2
        }
    }

    public static func < (lhs: ValueTier, rhs: ValueTier) -> Bool { lhs.rank < rhs.rank }

    /// The nine-grid's value level for this tier: gold is high, silver mid, bronze low.
    public var level: GridLevel {
        switch self {
        case .bronze: return .low
        case .silver: return .mid
        case .gold: return .high
        }
    }
}
