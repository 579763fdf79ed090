/// Which side of the retention experiment an alert is on (`group` in `crm alerts`).
///
/// A stable hash of the customer id puts `CRM_ALERTS_CONTROL_SHARE` of the customers who qualify for an alert into
/// the control group: their alerts are stored like any other and never published, so what happens to them is what
/// happens without an alert.
public enum AlertGroup: String, MessageVocabulary, Comparable {
    /// Published to a desk.
    case alerted
    /// Stored, never published: the comparison.
    case control

    public static func < (lhs: AlertGroup, rhs: AlertGroup) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}

/// What the orders say became of an alerted (or control) customer (`observed_outcome`).
public enum ObservedOutcome: String, MessageVocabulary {
    /// A purchase after the alert's `as_of` and within the outcome window.
    case returned
    /// The window has passed without a purchase.
    case notReturned = "not_returned"
    /// The window has not passed yet and no purchase has been seen.
    case pending
}

/// How a lost customer left (`churn_type` of `alert-feedback.v1`).
public enum ChurnType: String, MessageVocabulary {
    /// The customer chose to leave.
    case active
    /// The customer drifted away (moved, stopped needing it, lapsed).
    case passive
}

/// Why a lost customer left (`churn_cause` of `alert-feedback.v1`).
public enum ChurnCause: String, MessageVocabulary {
    /// Needs ended, moved away: nobody's fault.
    case natural
    /// Went to a competitor.
    case competitive
    /// Our own failure: delivery, quality, service; the commonest cause, and the one to fix.
    case serviceFailure = "service_failure"
    /// We gave up on them (not worth retaining, fraud, bad debt).
    case abandoned
    /// Anything else.
    case other
}
