/// An error from the scoring rules: settings that cannot work, or a stored value that is corrupt.
///
/// Shaped like `PSQLError`: a small code plus context. The context names settings and numbers only,
/// never a customer, so the description is safe to log.
public struct ScoringRulesError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, in a form a caller can switch over.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: String, Hashable, Sendable {
            case invalidSettings = "invalid_settings"
            case invalidStoredValue = "invalid_stored_value"
        }

        let base: Base

        /// A setting is out of range or contradicts another (for example decline below termination).
        public static let invalidSettings = Code(base: .invalidSettings)
        /// A stored value (breakpoints, cut-offs) does not satisfy its invariants.
        public static let invalidStoredValue = Code(base: .invalidStoredValue)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// Which setting or value, and why; free of personal data.
    public var context: String

    /// Creates an error with a code and a context sentence.
    public init(code: Code, context: String) {
        self.code = code
        self.context = context
    }

    public var description: String { "ScoringRulesError(\(code)): \(context)" }

    /// Throws ``invalidSettings`` with `context` unless `condition` holds.
    static func require(_ condition: Bool, _ context: @autoclosure () -> String) throws {
        guard condition else { throw ScoringRulesError(code: .invalidSettings, context: context()) }
    }
}
