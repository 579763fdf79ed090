import CRMContract

/// The category and severity of one complaint, with the evidence kept for audit.
public struct ComplaintClassification: Hashable, Sendable {
    /// Where the category came from.
    public enum CategorySource: String, Hashable, Sendable {
        /// The upstream `category_hint` named a configured category or alias.
        case hint
        /// The best-scoring category reached `min_score`.
        case rules
        /// Nothing reached `min_score`: `other`.
        case fallback
    }

    /// The published category.
    public var category: ComplaintCategory
    /// Why this category.
    public var categorySource: CategorySource
    /// The summed weight of the chosen category's evidence (0 for `other`).
    public var score: Int
    /// The published severity, after signals and the repeat rule.
    public var severity: ComplaintSeverity
    /// Keywords and patterns that matched, as configured: the category's first, then the signals'.
    public var matched: [String]
    /// Names of the severity signals found, plus `repeat_complaint` when the repeat rule raised it.
    public var signals: [String]
}

/// Classifies complaint text with `ClassificationRules` compiled once; safe to share between tasks.
public struct ComplaintClassifier: Sendable {
    /// The signal name recorded when the repeat rule raises the severity.
    public static let repeatSignal = "repeat_complaint"

    private struct Evidence: Sendable {
        var rule: TextRule
        var weight: Int
    }

    private struct Category: Sendable {
        var name: ComplaintCategory
        var baseSeverity: ComplaintSeverity?
        var evidence: [Evidence]
    }

    private struct Signal: Sendable {
        var name: String
        var severity: ComplaintSeverity
        var rules: [TextRule]
    }

    /// The rules this classifier was compiled from.
    public let rules: ClassificationRules
    private let categories: [Category]
    private let signals: [Signal]
    /// Normalized category names and aliases, for `category_hint`.
    private let hints: [String: ComplaintCategory]

    /// Compiles the rules; throws every invalid name, value and regular expression at once.
    public init(rules: ClassificationRules) throws(ComplaintConfigurationError) {
        var issues = ConfigurationIssues()
        self.init(rules: rules, issues: &issues)
        try issues.throwIfAny()
    }

    /// Compiles what is valid and records the rest, so a whole rules document is checked in one pass.
    init(rules: ClassificationRules, issues: inout ConfigurationIssues) {
        self.rules = rules
        rules.check(&issues)
        var hints: [String: ComplaintCategory] = [:]
        var categories: [Category] = []
        for (index, category) in rules.categories.enumerated() {
            let location = "classification.categories[\(index)] \"\(category.name)\""
            for hint in [category.name.rawValue] + category.aliases {
                let key = Self.hintKey(hint)
                if let other = hints[key], other != category.name {
                    issues.add(.duplicateName, at: location, "alias \"\(hint)\" also names category \"\(other)\"")
                }
                hints[key] = category.name
            }
            var evidence: [Evidence] = []
            for (groupIndex, group) in category.keywords.enumerated() {
                for (termIndex, term) in group.terms.enumerated() {
                    let at = "\(location) keywords[\(groupIndex)].terms[\(termIndex)]"
                    if let rule = TextRule.keyword(term, at: at, issues: &issues) {
                        evidence.append(Evidence(rule: rule, weight: group.weight))
                    }
                }
            }
            for (patternIndex, pattern) in category.patterns.enumerated() {
                let at = "\(location) patterns[\(patternIndex)]"
                if let rule = TextRule.pattern(pattern.regex, at: at, issues: &issues) {
                    evidence.append(Evidence(rule: rule, weight: pattern.weight))
                }
            }
            categories.append(Category(name: category.name, baseSeverity: category.baseSeverity, evidence: evidence))
        }
        let otherKey = Self.hintKey(ComplaintCategory.other.rawValue)
        if hints[otherKey] == nil { hints[otherKey] = .other }
        self.hints = hints
        self.categories = categories
        self.signals = rules.severitySignals.enumerated().map { index, signal in
            let location = "classification.severity_signals[\(index)] \"\(signal.name)\""
            let keywords = signal.keywords.enumerated().compactMap { termIndex, term in
                TextRule.keyword(term, at: "\(location) keywords[\(termIndex)]", issues: &issues)
            }
            let patterns = signal.patterns.enumerated().compactMap { patternIndex, source in
                TextRule.pattern(source, at: "\(location) patterns[\(patternIndex)]", issues: &issues)
            }
            return Signal(name: signal.name, severity: signal.severity, rules: keywords + patterns)
        }
    }

    /// Every category a complaint can get: the configured ones and `other`.
    public var knownCategories: Set<ComplaintCategory> {
        Set(categories.map(\.name)).union([.other])
    }

    /// Every severity signal name, for checking routing rules.
    public var signalNames: Set<String> {
        Set(signals.map(\.name)).union([Self.repeatSignal])
    }

    /// Classifies a complaint's subject and body, honouring its `category_hint` and the customer's history.
    public func classify(_ complaint: ComplaintFacts, customer: CustomerSnapshot) -> ComplaintClassification {
        let body = complaint.body.map { String($0.prefix(rules.maxTextCharacters)) }
        let text = TextNormalizer.normalize([complaint.subject, body].compactMap { $0 }.joined(separator: "\n"))

        // Score every category: audit wants the evidence even when the hint decides.
        let scored = categories.map { category in
            let found = category.evidence.filter { $0.rule.matches(text) }
            return (category: category, score: found.reduce(0) { $0 + $1.weight }, matched: found.map(\.rule.source))
        }
        // `max(by:)` keeps the first of equal elements: the earlier configured category wins a tie.
        let best = scored.max { $0.score < $1.score }

        let hinted = complaint.categoryHint.flatMap { hints[Self.hintKey($0)] }
        let category: ComplaintCategory
        let source: ComplaintClassification.CategorySource
        if let hinted {
            (category, source) = (hinted, .hint)
        } else if let best, best.score >= rules.minScore {
            (category, source) = (best.category.name, .rules)
        } else {
            (category, source) = (.other, .fallback)
        }
        let chosen = scored.first { $0.category.name == category }

        var severity = chosen?.category.baseSeverity ?? rules.defaultSeverity
        var matched = chosen?.matched ?? []
        var signalNames: [String] = []
        for signal in signals {
            let found = signal.rules.filter { $0.matches(text) }.map(\.source)
            guard !found.isEmpty else { continue }
            severity = max(severity, signal.severity)
            signalNames.append(signal.name)
            matched += found.filter { !matched.contains($0) }
        }
        if rules.repeatComplaints.isRepeat(customer) {
            severity = severity.raised
            signalNames.append(Self.repeatSignal)
        }
        return ComplaintClassification(
            category: category,
            categorySource: source,
            score: chosen?.score ?? 0,
            severity: severity,
            matched: matched,
            signals: signalNames
        )
    }

    /// `Product Quality`, `product-quality` and `PRODUCT_QUALITY` name the same category.
    private static func hintKey(_ hint: String) -> String {
        String(TextNormalizer.normalize(hint).map { $0 == " " || $0 == "-" ? "_" : $0 })
    }
}
