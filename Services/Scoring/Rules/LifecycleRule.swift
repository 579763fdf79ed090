import CRMContract

/// The rule that decided a customer's stage, kept with the stage for history and explanations.
///
/// Raw values are stable identifiers (`stage.reason`) and may be stored; rename only with a migration.
public enum LifecycleRule: String, Codable, Hashable, Sendable, CaseIterable {
    /// No purchase yet.
    case noPurchase = "potential.no_purchase"
    /// p_alive below `terminationPAlive`.
    case pAliveBelowTermination = "termination.p_alive_low"
    /// Silent longer than `terminationSilenceDays`, whatever the rhythm (catches one-time buyers).
    case silentBeyondTerminationLimit = "termination.silence_limit"
    /// Silent longer than `terminationIntervalMultiple` × the customer's own interval.
    case overdueBeyondTermination = "termination.own_interval"
    /// Terminated before and no purchase since: termination ends only with a purchase.
    case terminationHeld = "termination.held"
    /// Terminated before and bought since.
    case purchaseAfterTermination = "recovery.purchase_after_termination"
    /// In recovery before and no purchase since.
    case recoveryHeld = "recovery.held"
    /// p_alive below `declinePAlive`.
    case pAliveBelowDecline = "decline.p_alive_low"
    /// p_alive fell by more than `declinePAliveDrop` since the previous scoring.
    case pAliveDropped = "decline.p_alive_drop"
    /// Silent longer than `declineSilenceDays`, whatever the rhythm.
    case silentBeyondDeclineLimit = "decline.silence_limit"
    /// Silent longer than `declineIntervalMultiple` × the customer's own interval.
    case overdueBeyondDecline = "decline.own_interval"
    /// Purchases per day in the recent window fell against the earlier history.
    case frequencyFalling = "decline.frequency_falling"
    /// Spend per day in the recent window fell against the earlier history.
    case spendFalling = "decline.spend_falling"
    /// One purchase so far.
    case firstPurchaseOnly = "development.first_purchase"
    /// Spend per day rising against the earlier history.
    case spendRising = "growth.spend_rising"
    /// A repeat buyer without enough earlier history for a trend.
    case noTrendYet = "growth.no_trend_yet"
    /// Stable, but below the value tier that marks maturity: room to grow.
    case stableBelowMaturityTier = "growth.below_maturity_tier"
    /// Stable and at or above the value tier that marks maturity.
    case stableHighValue = "maturity.stable_high_value"

    /// The stage this rule assigns.
    public var stage: LifecycleStage {
        switch self {
        case .noPurchase: return .potential
        case .pAliveBelowTermination, .silentBeyondTerminationLimit, .overdueBeyondTermination, .terminationHeld:
            return .termination
        case .purchaseAfterTermination, .recoveryHeld: return .recovery
        case .pAliveBelowDecline, .pAliveDropped, .silentBeyondDeclineLimit, .overdueBeyondDecline,
            .frequencyFalling, .spendFalling:
            return .decline
        case .firstPurchaseOnly: return .development
        case .spendRising, .noTrendYet, .stableBelowMaturityTier: return .growth
        case .stableHighValue: return .maturity
        }
    }
}

/// A stage with the rule that fired for it.
public struct LifecycleClassification: Hashable, Sendable, Codable {
    /// The stage assigned.
    public var stage: LifecycleStage { rule.stage }
    /// The first rule, in the documented order, whose condition held.
    public var rule: LifecycleRule

    /// Wraps the rule that fired.
    public init(rule: LifecycleRule) {
        self.rule = rule
    }
}
