import CRMContract

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
    /// The customer rated complaint `complaintID` `rating` (of 5).
    case ratedLow(complaintID: String, rating: Int)
    /// Complaint `complaintID` breached its `target` while open.
    case targetBreached(complaintID: String, target: SLATarget)
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
