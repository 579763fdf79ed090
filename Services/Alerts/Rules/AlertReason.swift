/// Why a retention alert was raised; raw values are the public `reasons` strings of retention-alert.v1.
///
/// Declaration order is the order reasons appear in a message: the gravest first.
public enum AlertReason: String, Codable, Hashable, Sendable, CaseIterable, Comparable {
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

    private var order: Int { Self.allCases.firstIndex(of: self) ?? Self.allCases.count }

    public static func < (lhs: AlertReason, rhs: AlertReason) -> Bool { lhs.order < rhs.order }
}

/// The numbers behind one reason, for the alert's history and for a desk agent asking "why".
public enum AlertEvidence: Hashable, Sendable, Codable {
    /// The stage changed from `from` (nil: first evaluation) to `to`.
    case stageEntered(from: LifecycleStage?, to: LifecycleStage)
    /// p_alive is below the threshold; `previous` is nil on a first evaluation.
    case pAliveBelow(pAlive: Double, previous: Double?, threshold: Double)
    /// p_alive fell from `from` to `to`, more than `maximumDrop`.
    case pAliveDropped(from: Double, to: Double, maximumDrop: Double)
    /// Silent `daysSinceLastOrder` days against an own interval of `expectedIntervalDays` times `multiple`.
    case overdue(daysSinceLastOrder: Double, expectedIntervalDays: Double, multiple: Double)
    /// The tier fell from `from` to `to`.
    case tierDowngraded(from: ValueTier, to: ValueTier)
    /// New complaints from a customer standing at `tier`; ids newest first.
    case complaintReceived(complaintIDs: [String], tier: ValueTier)
    /// `count` distinct complaints within `windowDays` days.
    case complaintsInWindow(count: Int, windowDays: Double)
}

/// One reason that fired, with its evidence.
public struct AlertFinding: Hashable, Sendable, Codable {
    /// The reason code.
    public var reason: AlertReason
    /// The numbers behind it.
    public var evidence: AlertEvidence

    /// Creates a finding.
    public init(reason: AlertReason, evidence: AlertEvidence) {
        self.reason = reason
        self.evidence = evidence
    }
}
