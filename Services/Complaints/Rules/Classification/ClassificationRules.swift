import CRMContract
import CRMSupport

/// How complaints are put into categories and given a severity: the `classification` section of the rules.
///
/// Loaded from `deploy/complaint-rules.json` and later from the database in the same JSON shape, so
/// operators change keywords without a rebuild. `ComplaintClassifier` compiles it once.
public struct ClassificationRules: Codable, Hashable, Sendable {
    /// Lowest summed weight that lets a category win; below it the complaint is `other`.
    /// Key `min_score`, default 2.
    public var minScore: Int
    /// Severity when neither a signal nor the category gives one. Key `default_severity`, default `low`.
    public var defaultSeverity: ComplaintSeverity
    /// The categories in order; on equal scores the earlier one wins. Key `categories`.
    public var categories: [CategoryRule]
    /// Words that set a severity whatever the category (legal threat, safety...). Key `severity_signals`.
    public var severitySignals: [SeveritySignal]
    /// When a customer's earlier complaints raise the severity one step. Key `repeat`.
    public var repeatComplaints: RepeatRule
    /// How much of the body is read, in characters; the subject is always read whole. Key
    /// `max_text_characters`, default 8000.
    ///
    /// Matching costs text length times keywords, and a body may be 256 KiB of pasted mail thread;
    /// what a complaint is about is said at its start.
    public var maxTextCharacters: Int

    /// Creates the classification rules.
    public init(
        minScore: Int = 2,
        defaultSeverity: ComplaintSeverity = .low,
        categories: [CategoryRule],
        severitySignals: [SeveritySignal],
        repeatComplaints: RepeatRule = RepeatRule(),
        maxTextCharacters: Int = 8000
    ) {
        self.minScore = minScore
        self.defaultSeverity = defaultSeverity
        self.categories = categories
        self.severitySignals = severitySignals
        self.repeatComplaints = repeatComplaints
        self.maxTextCharacters = maxTextCharacters
    }

    enum CodingKeys: String, CodingKey {
        case minScore = "min_score"
        case defaultSeverity = "default_severity"
        case categories
        case severitySignals = "severity_signals"
        case repeatComplaints = "repeat"
        case maxTextCharacters = "max_text_characters"
    }

    /// Decodes, filling the documented defaults for missing keys.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        minScore = try container.decodeIfPresent(Int.self, forKey: .minScore) ?? 2
        defaultSeverity = try container.decodeIfPresent(ComplaintSeverity.self, forKey: .defaultSeverity) ?? .low
        categories = try container.decode([CategoryRule].self, forKey: .categories)
        severitySignals = try container.decodeIfPresent([SeveritySignal].self, forKey: .severitySignals) ?? []
        repeatComplaints = try container.decodeIfPresent(RepeatRule.self, forKey: .repeatComplaints) ?? RepeatRule()
        maxTextCharacters = try container.decodeIfPresent(Int.self, forKey: .maxTextCharacters) ?? 8000
    }
}

// MARK: - Parts

extension ClassificationRules {
    /// Keywords matched as substrings of the normalized text, all with one weight.
    public struct KeywordGroup: Codable, Hashable, Sendable {
        /// Added to the category's score once per keyword found. Negative weights count against it.
        public var weight: Int
        /// The keywords, in any language; case and full-width forms do not matter. Key `terms`.
        public var terms: [String]

        /// Creates a group of keywords with one weight.
        public init(weight: Int, terms: [String]) {
            self.weight = weight
            self.terms = terms
        }

        enum CodingKeys: String, CodingKey {
            case weight, terms
        }

        /// Decodes, rejecting unknown keys.
        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            weight = try container.decode(Int.self, forKey: .weight)
            terms = try container.decode([String].self, forKey: .terms)
        }
    }

    /// A regular expression (ICU syntax, case-insensitive) matched against the normalized text.
    public struct WeightedPattern: Codable, Hashable, Sendable {
        /// Added to the category's score when the pattern matches anywhere.
        public var weight: Int
        /// The expression; written for lower-case, half-width text. Key `regex`.
        public var regex: String

        /// Creates a weighted pattern.
        public init(weight: Int, regex: String) {
            self.weight = weight
            self.regex = regex
        }

        enum CodingKeys: String, CodingKey {
            case weight, regex
        }

        /// Decodes, rejecting unknown keys.
        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            weight = try container.decode(Int.self, forKey: .weight)
            regex = try container.decode(String.self, forKey: .regex)
        }
    }

    /// One category: its name, the hints that name it, and the evidence that scores it.
    public struct CategoryRule: Codable, Hashable, Sendable {
        /// The published category name, `[a-z0-9_-]+`.
        public var name: ComplaintCategory
        /// Other `category_hint` values that mean this category, e.g. `logistics`, `物流`. Default none.
        public var aliases: [String]
        /// Severity of a complaint in this category when no signal says more. Key `base_severity`,
        /// default `classification.default_severity`.
        public var baseSeverity: ComplaintSeverity?
        /// Weighted keyword groups. Default none.
        public var keywords: [KeywordGroup]
        /// Weighted regular expressions. Default none.
        public var patterns: [WeightedPattern]

        /// Creates a category rule.
        public init(
            name: ComplaintCategory,
            aliases: [String] = [],
            baseSeverity: ComplaintSeverity? = nil,
            keywords: [KeywordGroup] = [],
            patterns: [WeightedPattern] = []
        ) {
            self.name = name
            self.aliases = aliases
            self.baseSeverity = baseSeverity
            self.keywords = keywords
            self.patterns = patterns
        }

        enum CodingKeys: String, CodingKey {
            case name, aliases, keywords, patterns
            case baseSeverity = "base_severity"
        }

        /// Decodes, treating missing lists as empty.
        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(ComplaintCategory.self, forKey: .name)
            aliases = try container.decodeIfPresent([String].self, forKey: .aliases) ?? []
            baseSeverity = try container.decodeIfPresent(ComplaintSeverity.self, forKey: .baseSeverity)
            keywords = try container.decodeIfPresent([KeywordGroup].self, forKey: .keywords) ?? []
            patterns = try container.decodeIfPresent([WeightedPattern].self, forKey: .patterns) ?? []
        }
    }

    /// A named severity signal: any of its keywords or patterns sets at least `severity`.
    public struct SeveritySignal: Codable, Hashable, Sendable {
        /// The signal's name, kept in the classification for audit and usable in routing, e.g. `legal_threat`.
        public var name: String
        /// The severity the signal sets at least.
        public var severity: ComplaintSeverity
        /// Keywords, as for categories.
        public var keywords: [String]
        /// Regular expressions, as for categories. Default none.
        public var patterns: [String]

        /// Creates a severity signal.
        public init(name: String, severity: ComplaintSeverity, keywords: [String], patterns: [String] = []) {
            self.name = name
            self.severity = severity
            self.keywords = keywords
            self.patterns = patterns
        }

        /// Decodes, treating missing lists as empty.
        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            severity = try container.decode(ComplaintSeverity.self, forKey: .severity)
            keywords = try container.decodeIfPresent([String].self, forKey: .keywords) ?? []
            patterns = try container.decodeIfPresent([String].self, forKey: .patterns) ?? []
        }
    }

    /// When a complaint counts as a repeat and its severity goes up one step.
    public struct RepeatRule: Codable, Hashable, Sendable {
        /// Other open complaints of the customer that make this one a repeat. Key
        /// `open_complaints_at_least`, default 1.
        public var openComplaintsAtLeast: Int
        /// Other complaints within the window that make this one a repeat. Key
        /// `recent_complaints_at_least`, default 2.
        public var recentComplaintsAtLeast: Int
        /// The window for `CustomerSnapshot.recentComplaints`, read by whoever counts them. Key
        /// `recent_window_days`, default 30.
        public var recentWindowDays: Int

        /// Creates a repeat rule; the defaults are those of the shipped rules file.
        public init(openComplaintsAtLeast: Int = 1, recentComplaintsAtLeast: Int = 2, recentWindowDays: Int = 30) {
            self.openComplaintsAtLeast = openComplaintsAtLeast
            self.recentComplaintsAtLeast = recentComplaintsAtLeast
            self.recentWindowDays = recentWindowDays
        }

        enum CodingKeys: String, CodingKey {
            case openComplaintsAtLeast = "open_complaints_at_least"
            case recentComplaintsAtLeast = "recent_complaints_at_least"
            case recentWindowDays = "recent_window_days"
        }

        /// Decodes, filling the documented defaults for missing keys.
        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let defaults = RepeatRule()
            openComplaintsAtLeast =
                try container.decodeIfPresent(Int.self, forKey: .openComplaintsAtLeast)
                ?? defaults.openComplaintsAtLeast
            recentComplaintsAtLeast =
                try container.decodeIfPresent(Int.self, forKey: .recentComplaintsAtLeast)
                ?? defaults.recentComplaintsAtLeast
            recentWindowDays =
                try container.decodeIfPresent(Int.self, forKey: .recentWindowDays) ?? defaults.recentWindowDays
        }

        /// Whether a customer with this history is complaining again.
        public func isRepeat(_ customer: CustomerSnapshot) -> Bool {
            customer.openComplaints >= openComplaintsAtLeast || customer.recentComplaints >= recentComplaintsAtLeast
        }
    }
}

// MARK: - Validation

extension ClassificationRules {
    /// Records names, weights and thresholds that cannot work; patterns are checked when compiled.
    func check(_ issues: inout ConfigurationIssues) {
        if minScore < 1 {
            issues.add(.invalidValue, at: "classification.min_score", "must be at least 1, is \(minScore)")
        }
        if maxTextCharacters < 100 {
            issues.add(
                .invalidValue,
                at: "classification.max_text_characters",
                "must be at least 100, is \(maxTextCharacters)"
            )
        }
        for (index, category) in categories.enumerated() {
            let location = "classification.categories[\(index)] \"\(category.name)\""
            issues.checkName(category.name.rawValue, at: location)
            for (groupIndex, group) in category.keywords.enumerated() where group.weight == 0 {
                issues.add(.invalidValue, at: "\(location) keywords[\(groupIndex)]", "weight must not be 0")
            }
            for (patternIndex, pattern) in category.patterns.enumerated() where pattern.weight == 0 {
                issues.add(.invalidValue, at: "\(location) patterns[\(patternIndex)]", "weight must not be 0")
            }
        }
        issues.checkUnique(categories.map(\.name.rawValue), at: "classification.categories")
        for (index, signal) in severitySignals.enumerated() {
            let location = "classification.severity_signals[\(index)] \"\(signal.name)\""
            issues.checkName(signal.name, at: location)
            if signal.keywords.isEmpty && signal.patterns.isEmpty {
                issues.add(.invalidValue, at: location, "needs at least one keyword or pattern")
            }
        }
        issues.checkUnique(severitySignals.map(\.name), at: "classification.severity_signals")
        let rule = repeatComplaints
        if rule.openComplaintsAtLeast < 1 || rule.recentComplaintsAtLeast < 1 || rule.recentWindowDays < 1 {
            issues.add(.invalidValue, at: "classification.repeat", "thresholds and the window must be at least 1")
        }
    }
}
