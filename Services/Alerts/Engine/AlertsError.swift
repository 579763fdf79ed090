/// Why the alerts service could not do something.
///
/// The context names tables, settings and files, never a customer, so the description is safe to log.
public struct AlertsError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The kind of failure.
    public enum Code: String, Sendable, Hashable {
        /// A stored row could not be read back (an unknown stage or tier, a bad column).
        case unreadableRow
        /// The retention playbook file is missing or invalid.
        case unreadablePlaybook
    }

    /// The kind of failure.
    public var code: Code
    /// What was being done, in words.
    public var context: String

    /// An error of `code` with its context.
    public init(_ code: Code, _ context: String) {
        self.code = code
        self.context = context
    }

    public var description: String { "alerts failed (\(code.rawValue)): \(context)" }
}
