import CRMContract
import CRMSupport
import Foundation

/// The operators' table of suggested retention actions by lifecycle stage and tier.
///
/// Loaded from `deploy/retention-playbook.json` and later from the database, as the same JSON:
///
/// ```json
/// {"schema": "retention-playbook.v1",
///  "default_action": "review_and_contact",
///  "rules": [{"stage": "decline", "tier": "gold", "action": "account_manager_call", "note": "…"},
///            {"stage": "decline", "action": "reactivation_email"},
///            {"tier": "gold", "action": "account_manager_check_in"}]}
/// ```
///
/// A rule names a stage, a tier or both; `note` is for the operators and is ignored. The action is
/// published verbatim as `suggested_action`. Lookup takes the most specific rule, in this order:
/// stage and tier → stage alone → tier alone → `default_action`. Stage comes before tier because
/// the stage says what is happening (leaving, returning) and the tier only how much to spend on it.
/// The order of rules in the file does not matter; two rules for the same stage and tier are an error.
public struct RetentionPlaybook: Hashable, Sendable, Codable {
    /// The `schema` this type reads and writes.
    public static let schema = "retention-playbook.v1"

    /// One row of the playbook.
    public struct Rule: Hashable, Sendable, Codable {
        /// The stage it applies to; nil for every stage.
        public var stage: LifecycleStage?
        /// The tier it applies to; nil for every tier.
        public var tier: ValueTier?
        /// The suggested action published with the alert.
        public var action: String
        /// A remark for the operators; not used by the rules.
        public var note: String?

        /// Creates a rule.
        public init(stage: LifecycleStage? = nil, tier: ValueTier? = nil, action: String, note: String? = nil) {
            self.stage = stage
            self.tier = tier
            self.action = action
            self.note = note
        }
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case defaultAction = "default_action"
        case rules
    }

    /// The action when no rule matches.
    public var defaultAction: String
    /// The rules, in any order.
    public var rules: [Rule]

    /// Creates a playbook; call ``validate()`` before use, as ``init(json:)`` does.
    public init(defaultAction: String, rules: [Rule]) {
        self.defaultAction = defaultAction
        self.rules = rules
    }

    /// Decodes and validates playbook JSON, whether read from the file or from the database.
    ///
    /// Uses its own decoder, so the file's snake_case keys do not depend on a caller's key strategy.
    public init(json: Data) throws {
        do {
            self = try JSONDecoder().decode(RetentionPlaybook.self, from: json)
        } catch let error as DecodingError {
            throw AlertRulesError(code: .invalidPlaybook, context: Self.describe(error))
        } catch let rejection as MessageRejection {
            // An unknown stage or tier, named with the words allowed.
            throw AlertRulesError(code: .invalidPlaybook, context: rejection.reason)
        }
        try validate()
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let schema = try container.decode(String.self, forKey: .schema)
        guard schema == Self.schema else {
            throw DecodingError.dataCorruptedError(
                forKey: .schema,
                in: container,
                debugDescription: "unsupported playbook schema \"\(schema)\", expected \"\(Self.schema)\""
            )
        }
        self.defaultAction = try container.decode(String.self, forKey: .defaultAction)
        self.rules = try container.decode([Rule].self, forKey: .rules)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schema, forKey: .schema)
        try container.encode(defaultAction, forKey: .defaultAction)
        try container.encode(rules, forKey: .rules)
    }

    /// The suggested action for a customer at `stage` and `tier`, by the documented fallbacks.
    public func action(stage: LifecycleStage, tier: ValueTier) -> String {
        rule(stage: stage, tier: tier)?.action ?? defaultAction
    }

    /// The rule that decides the action, or nil when the default applies.
    public func rule(stage: LifecycleStage, tier: ValueTier) -> Rule? {
        rules.first { $0.stage == stage && $0.tier == tier }
            ?? rules.first { $0.stage == stage && $0.tier == nil }
            ?? rules.first { $0.stage == nil && $0.tier == tier }
    }

    /// Throws ``AlertRulesError`` for an empty action, a rule naming neither stage nor tier, or a duplicate.
    public func validate() throws {
        try AlertRulesError.require(!Self.isBlank(defaultAction), "default_action is empty", code: .invalidPlaybook)
        var seen = Set<String>()
        for (index, rule) in rules.enumerated() {
            let key = "\(rule.stage?.rawValue ?? "any stage")/\(rule.tier?.rawValue ?? "any tier")"
            try AlertRulesError.require(
                rule.stage != nil || rule.tier != nil,
                "rule \(index) names neither stage nor tier; use default_action",
                code: .invalidPlaybook
            )
            try AlertRulesError.require(
                !Self.isBlank(rule.action),
                "rule \(index) (\(key)) has an empty action",
                code: .invalidPlaybook
            )
            try AlertRulesError.require(
                seen.insert(key).inserted,
                "rule \(index) repeats \(key)",
                code: .invalidPlaybook
            )
        }
    }

    private static func isBlank(_ text: String) -> Bool {
        text.allSatisfy(\.isWhitespace)
    }

    /// A one-line account of a decoding failure: where in the document, and what.
    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            return keys.isEmpty ? "document" : keys.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context): return "\(path(context)): missing \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "undecodable playbook"
        }
    }
}
