import CRMContract
import CRMPostgres
import CRMSupport
import Foundation

/// A signed-in browser: who, with what role, and the token its forms must carry.
struct ConsoleSession: Sendable {
    var user: String
    var role: ConsoleRole
    /// The anti-forgery token of this session: every POST carries it in a hidden field.
    var csrfToken: String
}

/// Sessions in `console_sessions`, shared by every replica. The cookie holds a random 256-bit token; the table
/// holds its SHA-256 (computed by PostgreSQL), so neither a copy of the table nor the logs can sign anyone in.
struct SessionStore: Sendable {
    let pool: PostgresPool
    let idle: Duration
    let maximum: Duration

    /// 32 random bytes from the system's secure generator, URL-safe base64 without padding.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Whether `text` has the shape of a token (43 URL-safe base64 characters): anything else is not looked up.
    static func isToken(_ text: String) -> Bool {
        text.utf8.count == 43
            && text.utf8.allSatisfy { byte in
                (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 45
                    || byte == 95
            }
    }

    private static let hashed = "encode(sha256(convert_to($1, 'UTF8')), 'hex')"

    /// Starts a session for `user`; returns the cookie's token and the session. Sessions past their time are
    /// cleared on the way.
    func create(user: String, role: ConsoleRole) async throws -> (token: String, session: ConsoleSession) {
        let token = Self.randomToken()
        let csrf = Self.randomToken()
        try await pool.transaction { [idle, maximum] connection in
            try connection.execute(
                """
                DELETE FROM console_sessions
                WHERE last_seen_at < now() - make_interval(secs => $1) OR created_at < now() - make_interval(secs => $2)
                """,
                [idle.totalSeconds, maximum.totalSeconds]
            )
            try connection.execute(
                "INSERT INTO console_sessions (token_hash, username, csrf_token) VALUES (\(Self.hashed), $2, $3)",
                [token, user, csrf]
            )
        }
        return (token, ConsoleSession(user: user, role: role, csrfToken: csrf))
    }

    /// The live session of `token`, its idle clock restarted; nil when there is none, it has been idle too long or
    /// lived too long, or its user has been removed.
    func find(token: String) async throws -> ConsoleSession? {
        guard Self.isToken(token) else { return nil }
        let rows = try await pool.query(
            """
            UPDATE console_sessions s SET last_seen_at = now()
            FROM console_users u
            WHERE s.token_hash = \(Self.hashed) AND u.username = s.username
              AND s.last_seen_at > now() - make_interval(secs => $2)
              AND s.created_at > now() - make_interval(secs => $3)
            RETURNING s.username, u.role, s.csrf_token
            """,
            [token, idle.totalSeconds, maximum.totalSeconds]
        )
        guard let row = rows.first, let role = ConsoleRole(rawValue: try row.decode(1)) else { return nil }
        return ConsoleSession(user: try row.decode(0), role: role, csrfToken: try row.decode(2))
    }

    /// Ends the session of `token` (signing out).
    func end(token: String) async throws {
        guard Self.isToken(token) else { return }
        try await pool.execute("DELETE FROM console_sessions WHERE token_hash = \(Self.hashed)", [token])
    }
}

extension Duration {
    /// The duration in seconds, fractions included.
    var totalSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
