/// Why a retention alert was raised; raw values are the public `reasons` strings of retention-alert.v1.
///
/// Declaration order is the order reasons appear in a message: the gravest first.
public enum AlertReason: String, MessageVocabulary, Comparable {
    /// The lifecycle stage moved into termination.
    case lifecycleTermination = "lifecycle_termination"
    /// The lifecycle stage moved into decline.
    case lifecycleDecline = "lifecycle_decline"
    /// p_alive fell below `pAliveLow`.
    case pAliveLow = "p_alive_low"
    /// p_alive fell by more than `pAliveMaximumDrop` since the previous evaluation.
    case pAliveDrop = "p_alive_drop"
    /// Silent for more than `overdueIntervalMultiple` × the customer's own interval.
    case overduePurchase = "overdue_purchase"
    /// Dropped from a tier at or above `downgradeFromTier` to a lower one.
    case tierDowngrade = "tier_downgrade"
    /// A new complaint from a customer at or above `complaintMinimumTier`.
    case complaintValuableCustomer = "complaint_valuable_customer"
    /// At least `repeatedComplaintsCount` complaints within `repeatedComplaintsWindowDays`.
    case repeatedComplaints = "repeated_complaints"
    /// A complaint breached its resolution target while still open.
    case complaintUnresolved = "complaint_unresolved"
    /// The customer rated a complaint's handling 1 or 2 (of 5).
    case dissatisfied

    private var order: Int { Self.allCases.firstIndex(of: self) ?? Self.allCases.count }

    public static func < (lhs: AlertReason, rhs: AlertReason) -> Bool { lhs.order < rhs.order }
}
