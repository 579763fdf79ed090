import CRMContract
import CRMSupport
import Foundation

/// The settings of `crm-complaints`, read from the environment once at start-up.
///
/// The rules themselves (classification, priority table, desks, routing, SLA targets) live in the database
/// (`crm rules load`); these settings say where the first rules come from and how the process runs.
public struct ComplaintsConfiguration: Sendable {
    /// The rules document loaded into an empty database (`CRM_COMPLAINT_RULES_FILE`); nil for the rules built into
    /// the binary (``DefaultComplaintRules``, the text of `deploy/complaint-rules.json`), whatever the directory.
    public var rulesFile: String?
    /// SLA targets that override the rules' per priority (`CRM_COMPLAINTS_SLA_TARGETS`, e.g.
    /// `p1=15m/4h,p2=1h/8h`: first response / resolution, in working time). Unset: the rules' targets.
    public var slaTargets: [ComplaintPriority: SLAPolicy.Targets]
    /// The highest escalation level, overriding the rules' `max_escalation_level`
    /// (`CRM_COMPLAINTS_MAX_ESCALATION_LEVEL`, 1 to 20). Unset: the rules' value.
    public var maxEscalationLevel: Int?
    /// How often the SLA sweeper looks for warnings and breaches (`CRM_COMPLAINTS_SWEEP_INTERVAL`, default 5s).
    public var sweepInterval: Duration
    /// Complaints per sweep transaction (`CRM_COMPLAINTS_SWEEP_BATCH`, default 500).
    public var sweepBatch: Int
    /// How often a newer rules version is looked for (`CRM_COMPLAINTS_RULES_REFRESH`, default 30s).
    public var rulesRefresh: Duration
    /// Complaints from customers of this tier or above are signalled to `crm-alerts`
    /// (`CRM_COMPLAINTS_SIGNAL_TIER`: `gold`, `silver` (default), `bronze`).
    public var signalTier: CustomerTier

    /// The defaults, as documented per property.
    public init(
        rulesFile: String? = nil,
        slaTargets: [ComplaintPriority: SLAPolicy.Targets] = [:],
        maxEscalationLevel: Int? = nil,
        sweepInterval: Duration = .seconds(5),
        sweepBatch: Int = 500,
        rulesRefresh: Duration = .seconds(30),
        signalTier: CustomerTier = .silver
    ) {
        self.rulesFile = rulesFile
        self.slaTargets = slaTargets
        self.maxEscalationLevel = maxEscalationLevel
        self.sweepInterval = sweepInterval
        self.sweepBatch = sweepBatch
        self.rulesRefresh = rulesRefresh
        self.signalTier = signalTier
    }

    /// Reads every `CRM_COMPLAINTS_*` setting and `CRM_COMPLAINT_RULES_FILE`; the error names the variable.
    public init(settings: Settings) throws(SettingsError) {
        let maxLevel: Int? =
            settings.string("CRM_COMPLAINTS_MAX_ESCALATION_LEVEL") == nil
            ? nil : try settings.int("CRM_COMPLAINTS_MAX_ESCALATION_LEVEL", default: 3, in: 1...20)
        self.init(
            rulesFile: settings.string("CRM_COMPLAINT_RULES_FILE"),
            slaTargets: try Self.parseTargets(settings.string("CRM_COMPLAINTS_SLA_TARGETS")),
            maxEscalationLevel: maxLevel,
            sweepInterval: try Self.positive(settings, "CRM_COMPLAINTS_SWEEP_INTERVAL", default: .seconds(5)),
            sweepBatch: try settings.int("CRM_COMPLAINTS_SWEEP_BATCH", default: 500, in: 1...10_000),
            rulesRefresh: try Self.positive(settings, "CRM_COMPLAINTS_RULES_REFRESH", default: .seconds(30)),
            signalTier: try Self.parseTier(settings.string("CRM_COMPLAINTS_SIGNAL_TIER"))
        )
    }

    /// The rules with this process's overrides applied: SLA targets and the escalation ceiling.
    public func applyingOverrides(to rules: ComplaintRules) -> ComplaintRules {
        var rules = rules
        for (priority, targets) in slaTargets { rules.sla.targets[priority] = targets }
        if let maxEscalationLevel { rules.sla.maxEscalationLevel = maxEscalationLevel }
        return rules
    }

    /// Whether a complaint from a customer of `tier` is signalled to `crm-alerts`.
    public func signals(_ tier: CustomerTier) -> Bool {
        let rank: [CustomerTier: Int] = [.gold: 3, .silver: 2, .bronze: 1, .unknown: 0]
        return (rank[tier] ?? 0) >= (rank[signalTier] ?? 3)
    }

    // MARK: - Parsing

    /// `p1=15m/4h,p2=1h/8h`: first response / resolution per priority; listed priorities only.
    static func parseTargets(_ text: String?) throws(SettingsError) -> [ComplaintPriority: SLAPolicy.Targets] {
        guard let text else { return [:] }
        let variable = "CRM_COMPLAINTS_SLA_TARGETS"
        var targets: [ComplaintPriority: SLAPolicy.Targets] = [:]
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let times = parts.count == 2 ? parts[1].split(separator: "/").map(String.init) : []
            guard parts.count == 2, let priority = ComplaintPriority(rawValue: parts[0].lowercased()),
                times.count == 2, let first = Settings.parseDuration(times[0]),
                let resolution = Settings.parseDuration(times[1]), first > .zero, resolution >= first
            else {
                throw SettingsError(
                    variable: variable,
                    problem: "expected entries like p1=15m/4h (first response/resolution, resolution not shorter), "
                        + "got \"\(entry)\""
                )
            }
            targets[priority] = SLAPolicy.Targets(firstResponse: first, resolution: resolution)
        }
        return targets
    }

    static func parseTier(_ text: String?) throws(SettingsError) -> CustomerTier {
        guard let text else { return .silver }
        guard let tier = CustomerTier(rawValue: text.lowercased()), tier != .unknown else {
            throw SettingsError(
                variable: "CRM_COMPLAINTS_SIGNAL_TIER",
                problem: "expected one of gold, silver, bronze, got \"\(text)\""
            )
        }
        return tier
    }

    private static func positive(
        _ settings: Settings,
        _ variable: String,
        default fallback: Duration
    )
        throws(SettingsError) -> Duration
    {
        let value = try settings.duration(variable, default: fallback)
        guard value > .zero else { throw SettingsError(variable: variable, problem: "must be longer than 0") }
        return value
    }
}
