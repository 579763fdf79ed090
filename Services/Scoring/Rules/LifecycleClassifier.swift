/// Assigns a lifecycle stage from a customer's facts by an ordered list of rules; the first that holds wins.
///
/// | # | stage       | rule (first match in this order)                                          |
/// |---|-------------|---------------------------------------------------------------------------|
/// | 1 | potential   | no purchase                                                               |
/// | 2 | termination | p_alive < `terminationPAlive`                                             |
/// |   |             | silent > `terminationSilenceDays`                                         |
/// |   |             | silent > `terminationIntervalMultiple` × own interval (†)                 |
/// |   |             | previous stage termination and no purchase since (held)                   |
/// | 3 | recovery    | previous stage termination and a purchase since                           |
/// | 4 | decline     | p_alive < `declinePAlive`                                                 |
/// |   |             | p_alive fell by more than `declinePAliveDrop` since the previous scoring  |
/// |   |             | silent > `declineSilenceDays`                                             |
/// |   |             | silent > `declineIntervalMultiple` × own interval (†)                     |
/// |   |             | purchases per day falling against the earlier history (*)                 |
/// |   |             | spend per day falling against the earlier history (*)                     |
/// | 5 | recovery    | previous stage recovery and no purchase since (held)                      |
/// | 6 | development | no repeat purchase yet                                                    |
/// | 7 | growth      | spend per day rising; or not enough earlier history for a trend           |
/// | 8 | maturity    | stable, value tier ≥ `maturityMinimumTier` (or tier unknown)              |
/// | 9 | growth      | stable, below `maturityMinimumTier`: settled, with room to grow           |
///
/// (†) only with at least `intervalRuleMinimumRepeats` repeats and `intervalRuleMinimumSilenceDays`
/// silent days: one gap is an anecdote, and a daily buyer is not lost after a quiet week.
/// (*) skipped while recovery is held: the earlier window then spans the dead period, so the
/// single return purchase would read as a trend either way.
///
/// Why this order: losing a customer outranks every sign of health, so termination comes first
/// and beats decline; recovery sits after termination because a returning customer who still
/// looks lost is not yet recovered, and before decline because the return purchase would otherwise
/// read as "fewer purchases lately". Recovery then holds until the next purchase, unless the
/// customer slips again (decline) or is lost again (termination). Termination ends only with a
/// purchase, so a model refit that lifts p_alive does not resurrect anyone.
public struct LifecycleClassifier: Hashable, Sendable {
    /// The thresholds in use.
    public let settings: LifecycleSettings

    /// Creates a classifier; validate the settings once at start-up with ``LifecycleSettings/validate()``.
    public init(settings: LifecycleSettings = LifecycleSettings()) {
        self.settings = settings
    }

    /// The stage of one customer and the rule that decided it.
    public func classify(_ facts: CustomerFacts) -> LifecycleClassification {
        LifecycleClassification(rule: rule(for: facts))
    }

    /// The first rule of the documented order that holds for `facts`.
    public func rule(for facts: CustomerFacts) -> LifecycleRule {
        guard facts.orderCount > 0, facts.lastOrderAt != nil else { return .noPurchase }
        if let rule = terminationRule(facts) { return rule }
        let bought = facts.boughtSincePreviousScoring
        if facts.previous?.stage == .termination, bought { return .purchaseAfterTermination }
        let holdingRecovery = facts.previous?.stage == .recovery && !bought
        if let rule = declineRule(facts, includingTrends: !holdingRecovery) { return rule }
        if holdingRecovery { return .recoveryHeld }
        if facts.repeatTransactions == 0 { return .firstPurchaseOnly }
        return progressRule(facts)
    }

    // MARK: - Rules by stage

    private func terminationRule(_ facts: CustomerFacts) -> LifecycleRule? {
        if let pAlive = facts.pAlive, pAlive < settings.terminationPAlive { return .pAliveBelowTermination }
        if let silence = facts.daysSinceLastOrder, silence > settings.terminationSilenceDays {
            return .silentBeyondTerminationLimit
        }
        if isOverdue(facts, multiple: settings.terminationIntervalMultiple) { return .overdueBeyondTermination }
        if facts.previous?.stage == .termination, !facts.boughtSincePreviousScoring { return .terminationHeld }
        return nil
    }

    private func declineRule(_ facts: CustomerFacts, includingTrends: Bool) -> LifecycleRule? {
        if let pAlive = facts.pAlive {
            if pAlive < settings.declinePAlive { return .pAliveBelowDecline }
            // A difference of two rounded numbers: within 1e-9 of the setting counts as on the boundary.
            if let before = facts.previous?.pAlive, before - pAlive > settings.declinePAliveDrop + 1e-9 {
                return .pAliveDropped
            }
        }
        if let silence = facts.daysSinceLastOrder, silence > settings.declineSilenceDays {
            return .silentBeyondDeclineLimit
        }
        if isOverdue(facts, multiple: settings.declineIntervalMultiple) { return .overdueBeyondDecline }
        guard includingTrends else { return nil }
        let trends = trends(facts)
        if trends.frequency == .falling { return .frequencyFalling }
        if trends.spend == .falling { return .spendFalling }
        return nil
    }

    private func progressRule(_ facts: CustomerFacts) -> LifecycleRule {
        switch trends(facts).spend {
        case .rising?: return .spendRising
        case nil: return .noTrendYet
        case .stable?, .falling?:
            // Falling spend was caught by the decline rules; only stable arrives here.
            if let tier = facts.valueTier, tier < settings.maturityMinimumTier { return .stableBelowMaturityTier }
            return .stableHighValue
        }
    }

    // MARK: - Shared measures

    /// Frequency and spend trends of the customer under these settings.
    public func trends(_ facts: CustomerFacts) -> ActivityTrends {
        ActivityTrends(
            recent: facts.recent,
            earlier: facts.earlier,
            ratio: settings.trendRatio,
            minimumEarlierPurchases: settings.trendMinimumEarlierPurchases
        )
    }

    /// Silent more than `multiple` × own interval, with enough repeats and enough silent days to mean it.
    private func isOverdue(_ facts: CustomerFacts, multiple: Double) -> Bool {
        guard facts.repeatTransactions >= settings.intervalRuleMinimumRepeats,
            let interval = facts.expectedIntervalDays, interval > 0,
            let silence = facts.daysSinceLastOrder, silence >= settings.intervalRuleMinimumSilenceDays
        else { return false }
        return silence > multiple * interval
    }
}
