/// How urgently a desk must act on a routed complaint (`priority`), `p1` first to `p4` last.
///
/// `Comparable` follows urgency: `p1 < p2` reads "p1 is handled before p2", so "priority at most p2" means
/// `priority <= .p2`, that is p1 or p2.
public enum ComplaintPriority: String, MessageVocabulary, Comparable {
    /// Handled first.
    case p1
    /// Handled second.
    case p2
    /// Handled third.
    case p3
    /// Handled last.
    case p4

    /// 1 for `p1` up to 4 for `p4`.
    public var number: Int {
        switch self {
        case .p1: 1
        case .p2: 2
        case .p3: 3
        case .p4: 4
        }
    }

    /// Orders by urgency: `p1` sorts first.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.number < rhs.number }
}
