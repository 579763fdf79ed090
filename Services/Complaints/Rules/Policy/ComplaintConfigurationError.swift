/// Everything wrong with a complaint rules document, reported at once so an operator fixes it in one go.
///
/// Each issue names where it is (`routing.rules[3] "vip-billing"`) and what is wrong, in words. The
/// rules hold no secrets or personal data, so the description is safe to log.
public struct ComplaintConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of mistake an issue is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case malformedDocument = "malformed_document"
            case invalidPattern = "invalid_pattern"
            case invalidName = "invalid_name"
            case duplicateName = "duplicate_name"
            case unknownDesk = "unknown_desk"
            case unknownCategory = "unknown_category"
            case unknownSignal = "unknown_signal"
            case invalidValue = "invalid_value"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The JSON does not parse or does not have the expected shape or types.
        public static let malformedDocument = Code(.malformedDocument)
        /// A regular expression does not compile.
        public static let invalidPattern = Code(.invalidPattern)
        /// A desk, category or rule name is empty, reserved or not `[a-z0-9_-]+`.
        public static let invalidName = Code(.invalidName)
        /// Two desks, categories or rules share a name.
        public static let duplicateName = Code(.duplicateName)
        /// A rule or the default names a desk that is not configured.
        public static let unknownDesk = Code(.unknownDesk)
        /// A rule names a category that is not configured.
        public static let unknownCategory = Code(.unknownCategory)
        /// A routing rule names a severity signal that is not configured.
        public static let unknownSignal = Code(.unknownSignal)
        /// A number, duration, time or table is out of range or incomplete.
        public static let invalidValue = Code(.invalidValue)

        /// The code in snake case, e.g. `unknown_desk`.
        public var description: String { base.rawValue }
    }

    /// One mistake, where it is and why it is wrong.
    public struct Issue: Hashable, Sendable, CustomStringConvertible {
        /// The kind of mistake.
        public var code: Code
        /// Where in the document, e.g. `classification.categories[2] "billing" patterns[0]`.
        public var location: String
        /// What is wrong, in words.
        public var detail: String

        /// Creates an issue.
        public init(_ code: Code, at location: String, _ detail: String) {
            self.code = code
            self.location = location
            self.detail = detail
        }

        /// `location: detail (code)`.
        public var description: String { "\(location): \(detail) (\(code))" }
    }

    /// Every issue found, in document order; never empty.
    public var issues: [Issue]

    /// Creates an error from the issues found.
    public init(issues: [Issue]) {
        self.issues = issues
    }

    /// One line per issue.
    public var description: String {
        "invalid complaint rules: " + issues.map(\.description).joined(separator: "; ")
    }
}

/// Collects issues while a configuration is checked, then throws them all at once.
struct ConfigurationIssues {
    private(set) var issues: [ComplaintConfigurationError.Issue] = []

    mutating func add(_ code: ComplaintConfigurationError.Code, at location: String, _ detail: String) {
        issues.append(.init(code, at: location, detail))
    }

    mutating func add(contentsOf other: ConfigurationIssues) {
        issues += other.issues
    }

    /// Checks a name used in queue names or published fields: `desk.<name>` must stay one topic word.
    mutating func checkName(_ name: String, at location: String) {
        if !isValidName(name) {
            add(.invalidName, at: location, "name \"\(name)\" must be non-empty and use only a-z, 0-9, _ and -")
        }
    }

    /// Records every value seen more than once.
    mutating func checkUnique(_ names: [String], at location: String) {
        var seen = Set<String>()
        for name in names where !seen.insert(name).inserted {
            add(.duplicateName, at: location, "\"\(name)\" is defined more than once")
        }
    }

    func throwIfAny() throws(ComplaintConfigurationError) {
        if !issues.isEmpty {
            throw ComplaintConfigurationError(issues: issues)
        }
    }
}

/// `[a-z0-9_-]+`: safe as a routing key word and as a queue name part.
func isValidName(_ name: String) -> Bool {
    !name.isEmpty
        && name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
}
