import CRMPostgres
import CRMSupport
import Foundation

/// The console's users in `console_users`: added, listed and removed by `crm users` with the owner's account,
/// read by `crm-console` to sign people in.
public enum ConsoleUsers {
    /// A user as `crm users list` shows it.
    public struct User: Sendable, Equatable {
        public var name: String
        public var role: ConsoleRole
        public var createdAt: Date
        /// Sessions that have not expired by the idle timeout given to ``list(pool:idle:)``.
        public var activeSessions: Int
    }

    /// A user name: a letter or digit, then up to 63 letters, digits, `.`, `_`, `@` or `-` (the table's check).
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 64 else { return false }
        func plain(_ scalar: Unicode.Scalar) -> Bool {
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar))
        }
        return plain(first) && name.unicodeScalars.allSatisfy { plain($0) || "._@-".unicodeScalars.contains($0) }
    }

    /// What ``add(name:role:password:replace:pool:)`` did.
    public enum AddOutcome: Sendable, Equatable {
        case added
        case updated
        case exists
    }

    /// Adds a user with the bcrypt hash of `password`; an existing user is updated (role and password, its
    /// sessions ended) when `replace`, else left alone.
    public static func add(
        name: String,
        role: ConsoleRole,
        password: String,
        replace: Bool,
        pool: PostgresPool
    ) async throws -> AddOutcome {
        let hash = try await PasswordHasher.hash(password)
        return try await pool.transaction { connection in
            let inserted = try connection.execute(
                """
                INSERT INTO console_users (username, role, password_hash) VALUES ($1, $2, $3)
                ON CONFLICT (username) DO NOTHING
                """,
                [name, role.rawValue, hash]
            )
            if inserted == 1 { return .added }
            guard replace else { return .exists }
            try connection.execute(
                "UPDATE console_users SET role = $2, password_hash = $3, updated_at = now() WHERE username = $1",
                [name, role.rawValue, hash]
            )
            try connection.execute("DELETE FROM console_sessions WHERE username = $1", [name])
            return .updated
        }
    }

    /// Every user, by name.
    public static func list(pool: PostgresPool, idle: Duration) async throws -> [User] {
        try await pool.query(
            """
            SELECT u.username, u.role, u.created_at,
                   (SELECT count(*) FROM console_sessions s
                    WHERE s.username = u.username AND s.last_seen_at > now() - make_interval(secs => $1))
            FROM console_users u ORDER BY u.username
            """,
            [Double(idle.components.seconds)]
        ).map { row in
            User(
                name: try row.decode(0),
                role: ConsoleRole(rawValue: try row.decode(1)) ?? .analyst,
                createdAt: try row.decode(2),
                activeSessions: try row.decode(3)
            )
        }
    }

    /// Removes a user and with it every session it has (the foreign key cascades); false when there was none.
    public static func remove(name: String, pool: PostgresPool) async throws -> Bool {
        try await pool.execute("DELETE FROM console_users WHERE username = $1", [name]) > 0
    }
}
