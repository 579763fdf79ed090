/// A customer's value tier (`tier`), ordered bronze < silver < gold so that settings read "at or above silver".
///
/// With scoring's default shares gold is the top 20 % of the base by value (the 80/20 customers), silver the next
/// 30 % (the rest of the upper half), bronze the lower half and everyone without positive value.
public enum ValueTier: String, MessageVocabulary, Comparable {
    /// The lower half by value, and every customer with no positive value.
    case bronze
    /// The next share below gold (default 30 %).
    case silver
    /// The top share by value (default 20 %).
    case gold

    /// 0 for bronze up to 2 for gold.
    public var rank: Int {
        switch self {
        case .bronze: 0
        case .silver: 1
        case .gold: 2
        }
    }

    public static func < (lhs: ValueTier, rhs: ValueTier) -> Bool { lhs.rank < rhs.rank }
}
