import CRMContract
import CRMSupport

/// A support desk: a name, its queue `desk.<name>`, and optionally the hours its SLA clock counts.
public struct Desk: Codable, Hashable, Sendable {
    /// The desk's name, `[a-z0-9_-]+`; `escalations` is reserved for `desk.escalations`.
    public var name: String
    /// When the desk works; absent means around the clock. Key `business_hours`.
    public var businessHours: BusinessHours?

    /// Creates a desk.
    public init(name: String, businessHours: BusinessHours? = nil) {
        self.name = name
        self.businessHours = businessHours
    }

    enum CodingKeys: String, CodingKey {
        case name
        case businessHours = "business_hours"
    }

    /// Decodes, rejecting unknown keys.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        businessHours = try container.decodeIfPresent(BusinessHours.self, forKey: .businessHours)
    }

    /// The queue, and routing key on `crm.desks`, that routed complaints for this desk go to.
    public var queue: String { "desk.\(name)" }

    /// The time this desk's SLA targets are counted in.
    public var workingTime: WorkingTime {
        businessHours.map(WorkingTime.businessHours) ?? .continuous
    }

    /// The queue, and routing key, escalations go to whatever desk handled the complaint.
    public static let escalationsQueue = "desk.escalations"
    /// The name no configured desk may take, because its queue is `escalationsQueue`.
    public static let reservedName = "escalations"
}

/// What routing rules can look at for one complaint.
public struct RoutingFacts: Hashable, Sendable {
    /// The classified category.
    public var category: ComplaintCategory
    /// The classified severity.
    public var severity: ComplaintSeverity
    /// The priority from `PriorityPolicy`.
    public var priority: ComplaintPriority
    /// The customer's tier.
    public var tier: CustomerTier
    /// The complaint's `channel`.
    public var channel: String
    /// The complaint's `language`, when given.
    public var language: String?
    /// The customer's region, when known.
    public var region: String?
    /// The severity signals found, e.g. `legal_threat`.
    public var signals: [String]

    /// Creates routing facts.
    public init(
        category: ComplaintCategory,
        severity: ComplaintSeverity,
        priority: ComplaintPriority,
        tier: CustomerTier,
        channel: String,
        language: String? = nil,
        region: String? = nil,
        signals: [String] = []
    ) {
        self.category = category
        self.severity = severity
        self.priority = priority
        self.tier = tier
        self.channel = channel
        self.language = language
        self.region = region
        self.signals = signals
    }
}

/// The `routing` section of the rules: ordered rules and the desk for everything else.
public struct RoutingTable: Codable, Hashable, Sendable {
    /// Where a complaint goes when no rule matches. Key `default_desk`.
    public var defaultDesk: String
    /// The rules, tried in order; the first that matches wins.
    public var rules: [RoutingRule]

    /// Creates a routing table.
    public init(defaultDesk: String, rules: [RoutingRule]) {
        self.defaultDesk = defaultDesk
        self.rules = rules
    }

    enum CodingKeys: String, CodingKey {
        case defaultDesk = "default_desk"
        case rules
    }

    /// Decodes, rejecting unknown keys.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        defaultDesk = try container.decode(String.self, forKey: .defaultDesk)
        rules = try container.decode([RoutingRule].self, forKey: .rules)
    }
}

/// Where a complaint goes and which rule said so.
public struct RoutingDecision: Hashable, Sendable {
    /// The chosen desk; publish to its `queue`.
    public var desk: Desk
    /// The rule's name, or `default` when none matched; published as `matched_rule`.
    public var matchedRule: String
}

/// Routes complaints to desks by the first matching rule; built once from validated configuration.
public struct Router: Sendable {
    /// The `matched_rule` value when no rule matched.
    public static let defaultRuleName = "default"

    /// The configured desks, in configuration order.
    public let desks: [Desk]
    /// The configured table.
    public let table: RoutingTable
    private let desksByName: [String: Desk]
    private let defaultDesk: Desk

    /// Checks and builds a router; throws every problem at once.
    ///
    /// `categories` and `signals`, when given, are the names rules may mention; a rule naming another
    /// is a typo that would never match, so it is an error.
    public init(
        desks: [Desk],
        table: RoutingTable,
        categories: Set<ComplaintCategory>? = nil,
        signals: Set<String>? = nil
    ) throws(ComplaintConfigurationError) {
        var issues = ConfigurationIssues()
        Self.check(desks: desks, table: table, categories: categories, signals: signals, &issues)
        try issues.throwIfAny()
        self.init(checkedDesks: desks, table: table)
    }

    /// Builds a router from desks and a table that `check` has passed.
    init(checkedDesks desks: [Desk], table: RoutingTable) {
        let byName = Dictionary(desks.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.desks = desks
        self.table = table
        self.desksByName = byName
        // `check` guarantees the default desk is configured; the fallback only keeps this total.
        self.defaultDesk = byName[table.defaultDesk] ?? Desk(name: table.defaultDesk)
    }

    /// The desk and rule for a complaint: the first rule whose conditions hold, else the default desk.
    public func route(_ facts: RoutingFacts) -> RoutingDecision {
        for rule in table.rules where rule.when.hold(for: facts) {
            if let desk = desksByName[rule.desk] {
                return RoutingDecision(desk: desk, matchedRule: rule.name)
            }
        }
        return RoutingDecision(desk: defaultDesk, matchedRule: Self.defaultRuleName)
    }

    /// The configured desk of that name.
    public func desk(named name: String) -> Desk? {
        desksByName[name]
    }

    /// Every queue to declare on `crm.desks`: `desk.<name>` per desk, then `desk.escalations`.
    public var queues: [String] {
        desks.map(\.queue) + [Desk.escalationsQueue]
    }

    static func check(
        desks: [Desk],
        table: RoutingTable,
        categories: Set<ComplaintCategory>?,
        signals: Set<String>?,
        _ issues: inout ConfigurationIssues
    ) {
        for (index, desk) in desks.enumerated() {
            let location = "desks[\(index)] \"\(desk.name)\""
            issues.checkName(desk.name, at: location)
            if desk.name == Desk.reservedName {
                issues.add(
                    .invalidName,
                    at: location,
                    "\"\(Desk.reservedName)\" is reserved for \(Desk.escalationsQueue)"
                )
            }
            desk.businessHours?.check(&issues, at: "\(location).business_hours")
        }
        issues.checkUnique(desks.map(\.name), at: "desks")
        let known = Set(desks.map(\.name))
        if !known.contains(table.defaultDesk) {
            issues.add(.unknownDesk, at: "routing.default_desk", "desk \"\(table.defaultDesk)\" is not configured")
        }
        for (index, rule) in table.rules.enumerated() {
            let location = "routing.rules[\(index)] \"\(rule.name)\""
            issues.checkName(rule.name, at: location)
            if rule.name == defaultRuleName {
                issues.add(.invalidName, at: location, "\"\(defaultRuleName)\" is reserved for the default desk")
            }
            if !known.contains(rule.desk) {
                issues.add(.unknownDesk, at: location, "desk \"\(rule.desk)\" is not configured")
            }
            for list in rule.when.emptyLists {
                issues.add(.invalidValue, at: "\(location).when.\(list)", "an empty list never matches; leave it out")
            }
            if let categories {
                for category in rule.when.categoryIn ?? [] where !categories.contains(category) {
                    issues.add(.unknownCategory, at: location, "category \"\(category)\" is not configured")
                }
            }
            if let signals {
                for signal in rule.when.signalIn ?? [] where !signals.contains(signal) {
                    issues.add(.unknownSignal, at: location, "severity signal \"\(signal)\" is not configured")
                }
            }
        }
        issues.checkUnique(table.rules.map(\.name), at: "routing.rules")
    }
}
