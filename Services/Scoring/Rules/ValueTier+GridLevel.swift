import CRMContract

extension ValueTier {
    /// The nine-grid's value level for this tier: gold is high, silver mid, bronze low.
    public var level: GridLevel {
        switch self {
        case .bronze: return .low
        case .silver: return .mid
        case .gold: return .high
        }
    }
}
