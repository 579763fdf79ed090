/// An error from the alert rules: unusable settings or an invalid retention playbook.
///
/// Shaped like `PSQLError`: a small code plus context. The context names settings, stages and tiers
/// only, never a customer, so the description is safe to log and to show an operator.
public struct AlertRulesError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, in a form a caller can switch over.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: String, Hashable, Sendable {
            case invalidSettings = "invalid_settings"
            case invalidPlaybook = "invalid_playbook"
        }

        let base: Base

        /// A setting is out of range or contradicts another.
        public static let invalidSettings = Code(base: .invalidSettings)
        /// The playbook JSON does not decode, names an unknown schema, or breaks a playbook rule.
        public static let invalidPlaybook = Code(base: .invalidPlaybook)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// Which setting or playbook entry, and why.
    public var context: String

    /// Creates an error with a code and a context sentence.
    public init(code: Code, context: String) {
        self.code = code
        self.context = context
    }

    public var description: String { "AlertRulesError(\(code)): \(context)" }

    /// Throws `code` with `context` unless `condition` holds.
    static func require(
        _ condition: Bool,
        _ context: @autoclosure () -> String,
        code: Code = .invalidSettings
    ) throws {
        guard condition else { throw AlertRulesError(code: code, context: context()) }
    }
}
