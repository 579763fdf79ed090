import CRMPostgres
import Foundation

/// Rate limits on signing in, per user name and per client address, counted in `console_login_failures` so that
/// every replica sees the same tries. Once either limit is reached within the window, further tries are refused
/// without checking the password until the oldest failure leaves the window.
struct LoginLimiter: Sendable {
    let pool: PostgresPool
    let userLimit: Int
    let addressLimit: Int
    let window: Duration

    /// Whether a try for `user` from `address` may go ahead.
    func allows(user: String, address: String) async throws -> Bool {
        let rows = try await pool.query(
            """
            SELECT count(*) FILTER (WHERE username = $1), count(*) FILTER (WHERE address = $2)
            FROM console_login_failures
            WHERE at > now() - make_interval(secs => $3) AND (username = $1 OR address = $2)
            """,
            [user, address, window.totalSeconds]
        )
        guard let row = rows.first else { return true }
        return try row.decode(0, as: Int.self) < userLimit && row.decode(1, as: Int.self) < addressLimit
    }

    /// Records a failed try; failures older than a day are deleted on the way.
    func recordFailure(user: String, address: String) async throws {
        try await pool.transaction { connection in
            try connection.execute("DELETE FROM console_login_failures WHERE at < now() - interval '1 day'")
            try connection.execute(
                "INSERT INTO console_login_failures (username, address) VALUES ($1, $2)",
                [user, address]
            )
        }
    }

    /// Forgets a user's failures after a successful sign-in.
    func recordSuccess(user: String) async throws {
        try await pool.execute("DELETE FROM console_login_failures WHERE username = $1", [user])
    }
}
