/// How serious a complaint is (`severity`), ordered from `low` to `critical`, so `>=` reads "at least as serious as"
/// and `max()` gives the most serious.
public enum ComplaintSeverity: String, MessageVocabulary, Comparable {
    /// An annoyance, e.g. an unfriendly agent.
    case low
    /// Something failed, e.g. a lost parcel or a wrong charge.
    case medium
    /// Serious exposure, e.g. a legal threat, or a medium complaint repeated.
    case high
    /// Immediate harm, e.g. safety or fraud: nothing waits.
    case critical

    /// 0 for `low` up to 3 for `critical`.
    public var rank: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .high: 2
        case .critical: 3
        }
    }

    /// Orders by seriousness, not by name.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}
