import CRMSupport

/// A failure talking to PostgreSQL: what failed, the SQLSTATE, and the statement without its values.
public struct PostgresError: Error, CustomStringConvertible, Sendable, TransientClassifiable, FailureSummarizing {
    /// What kind of failure this is.
    public enum Code: String, Sendable {
        /// The server could not be reached or the connection broke.
        case connectionFailed
        /// The server rejected the statement (see `sqlState`).
        case serverError
        /// A value could not be decoded into the requested Swift type.
        case decodingFailed
        /// A migration is inconsistent with what the database recorded.
        case migrationFailed
        /// No connection became free in time.
        case poolTimeout
    }

    public var code: Code
    /// The five-character SQLSTATE, e.g. `23505` for a unique violation.
    public var sqlState: String?
    /// The server's primary message. It may quote a value (`invalid input syntax for type numeric: "x"`, a trigger's
    /// text): ``failureSummary`` and ``failureDetail`` leave it out.
    public var message: String
    /// The statement's text; values are bound separately and never appear here.
    public var query: String?

    public init(_ code: Code, message: String, sqlState: String? = nil, query: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.query = query
    }

    /// Connection failures, serialization failures, deadlocks and server shutdowns retry; bad data does not.
    public var isTransient: Bool {
        switch code {
        case .connectionFailed, .poolTimeout: return true
        case .decodingFailed, .migrationFailed: return false
        case .serverError:
            guard let sqlState else { return false }
            let transientClasses = ["08", "40", "53", "57", "58"]
            return transientClasses.contains(String(sqlState.prefix(2))) && sqlState != "57014"
        }
    }

    /// The SQLSTATE of a unique-constraint violation.
    public static let uniqueViolation = "23505"

    /// The SQLSTATE and its name, never the server's message: e.g. `database error 22003 (numeric value out of
    /// range)`.
    public var failureSummary: String {
        guard let sqlState else { return "database \(code.rawValue)" }
        let name = Self.conditionNames[sqlState] ?? Self.classNames[String(sqlState.prefix(2))]
        return "database error \(sqlState)" + (name.map { " (\($0))" } ?? "")
    }

    /// The summary and the statement (its text only; values are bound separately).
    public var failureDetail: String {
        guard let query else { return failureSummary }
        return failureSummary + "; query: "
            + query.split(whereSeparator: \.isWhitespace).joined(separator: " ").prefix(240)
    }

    /// Names of the conditions data can cause, by SQLSTATE (PostgreSQL's appendix A).
    static let conditionNames: [String: String] = [
        "22001": "string data right truncation", "22003": "numeric value out of range",
        "22007": "invalid datetime format", "22008": "datetime field overflow", "22012": "division by zero",
        "22021": "character not in repertoire", "22P02": "invalid text representation",
        "22P05": "untranslatable character", "23502": "not null violation", "23503": "foreign key violation",
        "23505": "unique violation", "23514": "check violation", "42501": "insufficient privilege",
        "54000": "program limit exceeded", "P0001": "raised by a trigger",
    ]

    /// Names of SQLSTATE classes, by their first two characters.
    static let classNames: [String: String] = [
        "08": "connection exception", "22": "data exception", "23": "integrity constraint violation",
        "25": "invalid transaction state", "40": "transaction rollback", "42": "syntax error or access rule violation",
        "53": "insufficient resources", "54": "program limit exceeded", "55": "object not in prerequisite state",
        "57": "operator intervention", "58": "system error", "XX": "internal error",
    ]

    public var description: String {
        var text = "PostgreSQL \(code.rawValue)"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(message)"
        if let query {
            let compact = query.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            text += " (query: \(compact.prefix(160)))"
        }
        return text
    }
}
