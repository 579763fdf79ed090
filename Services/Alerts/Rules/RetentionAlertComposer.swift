import CRMContract

/// The decided content of a retention alert: what retention-alert.v1 needs beyond ids, times and the customer.
public struct RetentionAlertContent: Hashable, Sendable, Codable {
    /// The `reasons`, gravest first.
    public var reasons: [AlertReason] { findings.map(\.reason) }
    /// Each reason with its evidence, gravest first.
    public var findings: [AlertFinding]
    /// The `priority`, from the value-at-risk bands.
    public var priority: AlertPriority
    /// The `value_at_risk`, currency units, unrounded; the message layer writes it as a decimal string.
    public var valueAtRisk: Double
    /// The `suggested_action`, from the playbook.
    public var suggestedAction: String
    /// The tier the customer was treated at: the better of previous and current.
    public var standingTier: ValueTier

    /// Creates content.
    public init(
        findings: [AlertFinding],
        priority: AlertPriority,
        valueAtRisk: Double,
        suggestedAction: String,
        standingTier: ValueTier
    ) {
        self.findings = findings
        self.priority = priority
        self.valueAtRisk = valueAtRisk
        self.suggestedAction = suggestedAction
        self.standingTier = standingTier
    }
}

/// Turns one customer's evaluation into the content of a retention alert, or into nothing.
///
/// Steps, in order:
/// 1. Eligibility: customers below the minimum on both the previous and current snapshot get nothing.
/// 2. Triggers: the reasons that fired (``AlertTrigger``).
/// 3. Open reasons are dropped: one open alert per customer and reason at a time.
/// 4. Nothing left → no alert.
/// 5. `value_at_risk` from the current snapshot, its priority band, and the playbook's action for
///    the current stage at the standing tier (the better of previous and current).
public struct RetentionAlertComposer: Hashable, Sendable {
    /// The settings in use.
    public let settings: AlertSettings
    /// The playbook in use.
    public let playbook: RetentionPlaybook

    /// Creates a composer from validated settings and playbook.
    public init(settings: AlertSettings = AlertSettings(), playbook: RetentionPlaybook) {
        self.settings = settings
        self.playbook = playbook
    }

    /// The alert content for `context`, or nil when the customer is not eligible or nothing new fired.
    ///
    /// - Parameters:
    ///   - context: The previous and current snapshots, complaints and times.
    ///   - openReasons: Reasons of this customer's alerts that are still open; they are not raised again.
    public func compose(_ context: AlertContext, openReasons: Set<AlertReason> = []) -> RetentionAlertContent? {
        guard settings.eligibility.isEligible(previous: context.previous, current: context.current) else {
            return nil
        }
        let findings = AlertTrigger(settings: settings).findings(context).filter { !openReasons.contains($0.reason) }
        guard !findings.isEmpty else { return nil }
        let valueAtRisk = settings.valueAtRisk.amount(for: context.current)
        return RetentionAlertContent(
            findings: findings,
            priority: settings.priority.priority(forValueAtRisk: valueAtRisk),
            valueAtRisk: valueAtRisk,
            suggestedAction: playbook.action(stage: context.current.stage, tier: context.standingTier),
            standingTier: context.standingTier
        )
    }
}
