import CRMSupport

/// A failure talking to PostgreSQL: what failed, the SQLSTATE, and the statement without its values.
public struct PostgresError: Error, CustomStringConvertible, Sendable, TransientClassifiable {
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
    /// The server's primary message (it names constraints and types, never bound values).
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
