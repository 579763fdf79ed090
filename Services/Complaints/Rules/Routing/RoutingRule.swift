import CRMContract
import CRMSupport

/// One routing rule: when every condition given holds, the complaint goes to `desk`.
///
/// JSON: `{"name": "gold-urgent", "when": {"tier_in": ["gold"], "priority_at_most": "p2"}, "desk": "vip"}`.
/// A condition left out always holds; a rule without `when` matches everything.
public struct RoutingRule: Codable, Hashable, Sendable {
    /// Conditions on a complaint; all given ones must hold.
    public struct Conditions: Codable, Hashable, Sendable {
        /// The category is one of these. Key `category_in`.
        public var categoryIn: [ComplaintCategory]?
        /// The severity is this or more serious. Key `severity_at_least`.
        public var severityAtLeast: ComplaintSeverity?
        /// The priority is this or more urgent: `p2` takes p1 and p2. Key `priority_at_most`.
        public var priorityAtMost: ComplaintPriority?
        /// The customer's tier is one of these. Key `tier_in`.
        public var tierIn: [CustomerTier]?
        /// The channel is one of these, ignoring case. Key `channel_in`.
        public var channelIn: [String]?
        /// The language is one of these or a subtag of one: `zh` takes `zh-CN`. Key `language_in`.
        public var languageIn: [String]?
        /// The customer's region is one of these, ignoring case. Key `region_in`.
        public var regionIn: [String]?
        /// One of these severity signals was found, e.g. `legal_threat`. Key `signal_in`.
        public var signalIn: [String]?

        /// Creates conditions; those left `nil` always hold.
        public init(
            categoryIn: [ComplaintCategory]? = nil,
            severityAtLeast: ComplaintSeverity? = nil,
            priorityAtMost: ComplaintPriority? = nil,
            tierIn: [CustomerTier]? = nil,
            channelIn: [String]? = nil,
            languageIn: [String]? = nil,
            regionIn: [String]? = nil,
            signalIn: [String]? = nil
        ) {
            self.categoryIn = categoryIn
            self.severityAtLeast = severityAtLeast
            self.priorityAtMost = priorityAtMost
            self.tierIn = tierIn
            self.channelIn = channelIn
            self.languageIn = languageIn
            self.regionIn = regionIn
            self.signalIn = signalIn
        }

        enum CodingKeys: String, CodingKey {
            case categoryIn = "category_in"
            case severityAtLeast = "severity_at_least"
            case priorityAtMost = "priority_at_most"
            case tierIn = "tier_in"
            case channelIn = "channel_in"
            case languageIn = "language_in"
            case regionIn = "region_in"
            case signalIn = "signal_in"
        }

        /// Decodes, rejecting unknown keys: a misspelt condition would otherwise always hold.
        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            categoryIn = try container.decodeIfPresent([ComplaintCategory].self, forKey: .categoryIn)
            severityAtLeast = try container.decodeIfPresent(ComplaintSeverity.self, forKey: .severityAtLeast)
            priorityAtMost = try container.decodeIfPresent(ComplaintPriority.self, forKey: .priorityAtMost)
            tierIn = try container.decodeIfPresent([CustomerTier].self, forKey: .tierIn)
            channelIn = try container.decodeIfPresent([String].self, forKey: .channelIn)
            languageIn = try container.decodeIfPresent([String].self, forKey: .languageIn)
            regionIn = try container.decodeIfPresent([String].self, forKey: .regionIn)
            signalIn = try container.decodeIfPresent([String].self, forKey: .signalIn)
        }

        /// Whether every condition given holds for these facts.
        public func hold(for facts: RoutingFacts) -> Bool {
            func within<T: Equatable>(_ allowed: [T]?, _ value: T) -> Bool { allowed?.contains(value) ?? true }
            func withinFolded(_ allowed: [String]?, _ value: String?, subtags: Bool = false) -> Bool {
                guard let allowed else { return true }
                guard let value = value.map(Self.fold) else { return false }
                return allowed.contains { entry in
                    let entry = Self.fold(entry)
                    return value == entry || subtags && value.hasPrefix(entry + "-")
                }
            }
            return within(categoryIn, facts.category)
                && severityAtLeast.map { facts.severity >= $0 } ?? true
                && priorityAtMost.map { facts.priority <= $0 } ?? true
                && within(tierIn, facts.tier)
                && withinFolded(channelIn, facts.channel)
                && withinFolded(languageIn, facts.language, subtags: true)
                && withinFolded(regionIn, facts.region)
                && (signalIn.map { !Set($0).isDisjoint(with: facts.signals) } ?? true)
        }

        /// Case-folded, with `_` read as `-` so `zh_CN` and `zh-cn` agree.
        private static func fold(_ value: String) -> String {
            value.lowercased().replacingOccurrences(of: "_", with: "-")
        }

        /// Names of the conditions given as empty lists, which could never hold.
        var emptyLists: [String] {
            let lists: [(String, Int?)] = [
                ("category_in", categoryIn?.count), ("tier_in", tierIn?.count), ("channel_in", channelIn?.count),
                ("language_in", languageIn?.count), ("region_in", regionIn?.count), ("signal_in", signalIn?.count),
            ]
            return lists.filter { $0.1 == 0 }.map(\.0)
        }
    }

    /// The rule's name, published as `matched_rule`; `[a-z0-9_-]+`, not `default`.
    public var name: String
    /// The conditions. Key `when`, default none (always holds).
    public var when: Conditions
    /// The desk the complaint goes to.
    public var desk: String

    /// Creates a rule.
    public init(name: String, when: Conditions = Conditions(), desk: String) {
        self.name = name
        self.when = when
        self.desk = desk
    }

    /// Decodes, treating a missing `when` as no conditions.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        when = try container.decodeIfPresent(Conditions.self, forKey: .when) ?? Conditions()
        desk = try container.decode(String.self, forKey: .desk)
    }
}
