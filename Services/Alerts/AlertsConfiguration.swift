import CRMContract
import CRMSupport
import Foundation

/// Every setting of `crm-alerts`, read from `CRM_ALERTS_*` and `CRM_RETENTION_PLAYBOOK_FILE`.
///
/// The rule settings (``AlertSettings``) keep their documented defaults when a variable is unset; the README
/// lists every variable. A bad value stops the service at start-up with the variable's name.
public struct AlertsConfiguration: Sendable, Hashable {
    /// The trigger, eligibility, value-at-risk and priority settings.
    public var rules: AlertSettings
    /// After an alert is resolved, the same customer gets no alert for the same reason for this long
    /// (`CRM_ALERTS_COOLDOWN`, default 30d).
    public var cooldown: Duration
    /// Alerts each desk queue receives per UTC day; 0 for no cap (`CRM_ALERTS_DAILY_CAP_P1`/`_P2`/`_P3`,
    /// default 0, 500 and 500: p1 customers are never held back unless the operators say so).
    public var dailyCaps: [AlertPriority: Int]
    /// How often one replica sweeps all scores for customers who went quiet (`CRM_ALERTS_SWEEP_INTERVAL`, default 1h).
    public var sweepInterval: Duration
    /// How often each replica releases held alerts, refreshes its gauges and rereads the playbook file
    /// (`CRM_ALERTS_TICK_INTERVAL`, default 30s).
    public var tickInterval: Duration
    /// The retention playbook's file (`CRM_RETENTION_PLAYBOOK_FILE`); nil for the playbook built into the binary
    /// (``DefaultRetentionPlaybook``, the text of `deploy/retention-playbook.json`), whatever the directory.
    public var playbookFile: String?
    /// The share of qualifying customers kept as the control group, 0...1 (`CRM_ALERTS_CONTROL_SHARE`, default 0.1;
    /// 0 turns the control group off).
    public var controlShare: Double
    /// How long after an alert's `as_of` a purchase counts as the customer's return (`CRM_ALERTS_OUTCOME_WINDOW`,
    /// default 90d).
    public var outcomeWindow: Duration

    /// The defaults.
    public init(
        rules: AlertSettings = AlertSettings(),
        cooldown: Duration = .seconds(30 * 86_400),
        dailyCaps: [AlertPriority: Int] = [.p1: 0, .p2: 500, .p3: 500],
        sweepInterval: Duration = .seconds(3_600),
        tickInterval: Duration = .seconds(30),
        playbookFile: String? = nil,
        controlShare: Double = 0.1,
        outcomeWindow: Duration = .seconds(90 * 86_400)
    ) {
        self.rules = rules
        self.cooldown = cooldown
        self.dailyCaps = dailyCaps
        self.sweepInterval = sweepInterval
        self.tickInterval = tickInterval
        self.playbookFile = playbookFile
        self.controlShare = controlShare
        self.outcomeWindow = outcomeWindow
    }

    /// The control group the settings describe.
    public var controlGroup: ControlGroup { ControlGroup(share: controlShare) }

    /// The daily cap of a desk queue; nil when it has none.
    public func cap(_ priority: AlertPriority) -> Int? {
        guard let cap = dailyCaps[priority], cap > 0 else { return nil }
        return cap
    }

    /// Reads the environment; every variable is optional.
    public init(_ settings: Settings) throws(SettingsError) {
        let defaults = AlertsConfiguration()
        var rules = AlertSettings()
        rules.eligibility.minimumTier = try Self.optionalTier(
            settings,
            "CRM_ALERTS_MINIMUM_TIER",
            default: rules.eligibility.minimumTier
        )
        if settings.string("CRM_ALERTS_MINIMUM_PREDICTED_VALUE") != nil {
            rules.eligibility.minimumPredictedValue = try settings.double(
                "CRM_ALERTS_MINIMUM_PREDICTED_VALUE",
                default: 0,
                in: 0...1e15
            )
        }
        rules.pAliveLow = try settings.double("CRM_ALERTS_P_ALIVE_LOW", default: rules.pAliveLow, in: 0.0001...1)
        rules.pAliveMaximumDrop = try settings.double(
            "CRM_ALERTS_P_ALIVE_DROP",
            default: rules.pAliveMaximumDrop,
            in: 0.0001...0.9999
        )
        rules.overdueIntervalMultiple = try settings.double(
            "CRM_ALERTS_OVERDUE_MULTIPLE",
            default: rules.overdueIntervalMultiple,
            in: 1...1000
        )
        rules.overdueMinimumDays = try settings.double(
            "CRM_ALERTS_OVERDUE_MINIMUM_DAYS",
            default: rules.overdueMinimumDays,
            in: 0...36_500
        )
        rules.overdueMinimumOrders = try settings.int(
            "CRM_ALERTS_OVERDUE_MINIMUM_ORDERS",
            default: rules.overdueMinimumOrders,
            in: 2...1_000_000
        )
        rules.downgradeFromTier = try settings.choice(
            "CRM_ALERTS_DOWNGRADE_FROM_TIER",
            default: rules.downgradeFromTier
        )
        rules.complaintMinimumTier = try settings.choice(
            "CRM_ALERTS_COMPLAINT_MINIMUM_TIER",
            default: rules.complaintMinimumTier
        )
        rules.repeatedComplaintsCount = try settings.int(
            "CRM_ALERTS_REPEATED_COMPLAINTS",
            default: rules.repeatedComplaintsCount,
            in: 2...1000
        )
        let window = try settings.duration(
            "CRM_ALERTS_REPEATED_COMPLAINTS_WINDOW",
            default: .seconds(rules.repeatedComplaintsWindowDays * 86_400)
        )
        rules.repeatedComplaintsWindowDays = window.seconds / 86_400
        rules.valueAtRisk.method = try settings.choice("CRM_ALERTS_VALUE_AT_RISK", default: rules.valueAtRisk.method)
        rules.valueAtRisk.pAliveFloor = try settings.double(
            "CRM_ALERTS_P_ALIVE_FLOOR",
            default: rules.valueAtRisk.pAliveFloor,
            in: 0.0001...1
        )
        rules.priority.p1Minimum = try settings.double(
            "CRM_ALERTS_P1_VALUE_AT_RISK",
            default: rules.priority.p1Minimum,
            in: 0...1e15
        )
        rules.priority.p2Minimum = try settings.double(
            "CRM_ALERTS_P2_VALUE_AT_RISK",
            default: rules.priority.p2Minimum,
            in: 0...1e15
        )
        do {
            try rules.validate()
        } catch {
            throw SettingsError(variable: "CRM_ALERTS_*", problem: (error as? AlertRulesError)?.context ?? "\(error)")
        }
        self.rules = rules
        cooldown = try settings.duration("CRM_ALERTS_COOLDOWN", default: defaults.cooldown)
        var caps: [AlertPriority: Int] = [:]
        for priority in AlertPriority.allCases {
            caps[priority] = try settings.int(
                "CRM_ALERTS_DAILY_CAP_\(priority.rawValue.uppercased())",
                default: defaults.dailyCaps[priority] ?? 0,
                in: 0...10_000_000
            )
        }
        dailyCaps = caps
        sweepInterval = try settings.duration("CRM_ALERTS_SWEEP_INTERVAL", default: defaults.sweepInterval)
        tickInterval = try settings.duration("CRM_ALERTS_TICK_INTERVAL", default: defaults.tickInterval)
        for (variable, value) in [
            ("CRM_ALERTS_SWEEP_INTERVAL", sweepInterval), ("CRM_ALERTS_TICK_INTERVAL", tickInterval),
        ]
        where value < .milliseconds(10) {
            throw SettingsError(variable: variable, problem: "must be at least 10ms")
        }
        playbookFile = settings.string("CRM_RETENTION_PLAYBOOK_FILE") ?? defaults.playbookFile
        controlShare = try settings.double("CRM_ALERTS_CONTROL_SHARE", default: defaults.controlShare, in: 0...1)
        outcomeWindow = try settings.duration("CRM_ALERTS_OUTCOME_WINDOW", default: defaults.outcomeWindow)
        if outcomeWindow < .seconds(1) {
            throw SettingsError(variable: "CRM_ALERTS_OUTCOME_WINDOW", problem: "must be at least 1s")
        }
    }

    /// A tier, or `none` for no minimum.
    private static func optionalTier(
        _ settings: Settings,
        _ variable: String,
        default fallback: ValueTier?
    )
        throws(SettingsError) -> ValueTier?
    {
        guard let raw = settings.string(variable)?.lowercased() else { return fallback }
        if raw == "none" { return nil }
        guard let tier = ValueTier(rawValue: raw) else {
            throw SettingsError(variable: variable, problem: "expected none, bronze, silver or gold, got \"\(raw)\"")
        }
        return tier
    }
}
