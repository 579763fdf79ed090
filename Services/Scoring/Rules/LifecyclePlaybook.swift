import CRMContract
import Foundation

/// The operators' table of suggested marketing actions for lifecycle events, by stage (or `purchase_due`) and tier.
///
/// Loaded from `deploy/lifecycle-playbook.json` (or `CRM_LIFECYCLE_PLAYBOOK_FILE`), reread when edited:
///
/// ```json
/// {"schema": "lifecycle-playbook.v1",
///  "default_action": "none",
///  "rules": [{"on": "development", "action": "second_purchase_nudge"},
///            {"on": "maturity", "tier": "gold", "action": "vip_reward"},
///            {"on": "purchase_due", "action": "repeat_purchase_reminder"}]}
/// ```
///
/// `on` is a lifecycle stage (the event of a move into it) or `purchase_due`; `tier` is optional; `note` is for the
/// operators. The most specific rule wins: `on` and tier → `on` alone → `default_action`. Every rule names `on`: a
/// marketing action answers an event. Two rules for the same `on` and tier are an error.
public struct LifecyclePlaybook: Hashable, Sendable, Codable {
    /// The `schema` this type reads.
    public static let schema = "lifecycle-playbook.v1"
    /// The `on` of the purchase-due event.
    public static let purchaseDue = "purchase_due"

    /// One row of the playbook.
    public struct Rule: Hashable, Sendable, Codable {
        /// A stage name or `purchase_due`.
        public var on: String
        /// The tier it applies to; nil for every tier.
        public var tier: ValueTier?
        /// The suggested action published with the event.
        public var action: String
        /// A remark for the operators; not used by the rules.
        public var note: String?

        /// Creates a rule.
        public init(on: String, tier: ValueTier? = nil, action: String, note: String? = nil) {
            self.on = on
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

    /// The playbook built into `crm-scoring` (``DefaultLifecyclePlaybook``).
    public static let builtIn: LifecyclePlaybook = {
        do {
            return try LifecyclePlaybook(json: Data(DefaultLifecyclePlaybook.json.utf8))
        } catch {
            // A unit test reads the built-in text; reaching this is a build that skipped it.
            fatalError("the built-in lifecycle playbook is invalid: \(error)")
        }
    }()

    /// Decodes and validates playbook JSON; throws ``ScoringRulesError`` naming the place and the problem.
    public init(json: Data) throws {
        do {
            self = try JSONDecoder().decode(LifecyclePlaybook.self, from: json)
        } catch let error as DecodingError {
            throw ScoringRulesError(code: .invalidSettings, context: "lifecycle playbook: \(Self.describe(error))")
        } catch let rejection as MessageRejection {
            throw ScoringRulesError(code: .invalidSettings, context: "lifecycle playbook: \(rejection.reason)")
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
        defaultAction = try container.decode(String.self, forKey: .defaultAction)
        rules = try container.decode([Rule].self, forKey: .rules)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schema, forKey: .schema)
        try container.encode(defaultAction, forKey: .defaultAction)
        try container.encode(rules, forKey: .rules)
    }

    /// The suggested action for a move into `stage` at `tier`.
    public func action(stage: LifecycleStage, tier: ValueTier) -> String {
        action(on: stage.rawValue, tier: tier)
    }

    /// The suggested action for `on` (a stage name or `purchase_due`) at `tier`, by the documented fallbacks.
    public func action(on: String, tier: ValueTier) -> String {
        (rules.first { $0.on == on && $0.tier == tier } ?? rules.first { $0.on == on && $0.tier == nil })?.action
            ?? defaultAction
    }

    /// Throws ``ScoringRulesError`` for an empty action, an unknown `on`, or a repeated `on` and tier.
    public func validate() throws {
        let known = Set(LifecycleStage.allCases.map(\.rawValue) + [Self.purchaseDue])
        try ScoringRulesError.require(!Self.isBlank(defaultAction), "lifecycle playbook: default_action is empty")
        var seen = Set<String>()
        for (index, rule) in rules.enumerated() {
            let key = "\(rule.on)/\(rule.tier?.rawValue ?? "any tier")"
            try ScoringRulesError.require(
                known.contains(rule.on),
                "lifecycle playbook: rule \(index) has unknown on \"\(rule.on)\" (expected one of "
                    + "\(known.sorted().joined(separator: ", ")))"
            )
            try ScoringRulesError.require(
                !Self.isBlank(rule.action),
                "lifecycle playbook: rule \(index) (\(key)) has an empty action"
            )
            try ScoringRulesError.require(seen.insert(key).inserted, "lifecycle playbook: rule \(index) repeats \(key)")
        }
    }

    private static func isBlank(_ text: String) -> Bool { text.allSatisfy(\.isWhitespace) }

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
