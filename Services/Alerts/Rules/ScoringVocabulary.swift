// The two words of the scoring vocabulary this service reads from stored scores. Services never
// import each other, so these mirror `Scoring.LifecycleStage` and `Scoring.ValueTier` raw value for
// raw value (the public `lifecycle_stage` and `tier` strings) until both move to Shared/Domain.

/// A customer's lifecycle stage as stored by scoring; raw values are the public `lifecycle_stage` strings.
public enum LifecycleStage: String, Codable, Hashable, Sendable, CaseIterable {
    /// Known, never bought.
    case potential
    /// Bought once.
    case development
    /// Repeat buyer with rising value.
    case growth
    /// Stable repeat buyer with a high share of value.
    case maturity
    /// Slipping against their own history.
    case decline
    /// Most likely gone.
    case termination
    /// Bought again after termination.
    case recovery
}

/// A customer's value tier as stored by scoring; raw values are the public `tier` strings.
///
/// Ordered bronze < silver < gold, so settings can say "at or above silver".
public enum ValueTier: String, Codable, Hashable, Sendable, CaseIterable, Comparable {
    /// The lower half by value.
    case bronze
    /// The 30 % below gold (by default).
    case silver
    /// The top 20 % by value (by default).
    case gold

    private var rank: Int {
        switch self {
        case .bronze: return 0
        case .silver: return 1
        case .gold: return 2
        }
    }

    public static func < (lhs: ValueTier, rhs: ValueTier) -> Bool { lhs.rank < rhs.rank }
}
