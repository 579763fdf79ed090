extension Schema {
    /// The web console's users, their sessions and failed sign-ins.
    ///
    /// - `console_users` is written by `crm users` with the owner's account; the password is kept only as a bcrypt
    ///   hash (a slow, salted hash: `$2b$12$…`), never in clear.
    /// - `console_sessions` holds one row per signed-in browser, shared by every replica of `crm-console`. The
    ///   cookie carries a random token; the table keeps only its SHA-256, so a copy of the table signs no one in.
    ///   Removing a user removes its sessions (the foreign key cascades): `crm users remove` signs it out.
    /// - `console_login_failures` counts failed sign-ins per user name and per client address over a window, which
    ///   rate-limits guessing across replicas; rows older than a day are deleted as new ones come.
    static let console = Migration(
        version: 16,
        name: "console users and sessions",
        sql: """
            CREATE TABLE console_users (
                username text PRIMARY KEY CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
                role text NOT NULL CHECK (role IN ('analyst', 'desk_manager', 'admin')),
                password_hash text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now()
            );

            CREATE TABLE console_sessions (
                token_hash text PRIMARY KEY,
                username text NOT NULL REFERENCES console_users (username) ON DELETE CASCADE ON UPDATE CASCADE,
                csrf_token text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                last_seen_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX console_sessions_user ON console_sessions (username);
            CREATE INDEX console_sessions_seen ON console_sessions (last_seen_at);

            CREATE TABLE console_login_failures (
                id bigserial PRIMARY KEY,
                username text NOT NULL,
                address text NOT NULL,
                at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX console_login_failures_user ON console_login_failures (username, at);
            CREATE INDEX console_login_failures_address ON console_login_failures (address, at);
            CREATE INDEX console_login_failures_at ON console_login_failures (at);
            """
    )
}

extension Schema {
    /// A page of one tier in keyset order (`tier=gold`, the segment browser's commonest filter) read straight from an
    /// index: `customer_scores_tier_stage` orders by stage first. Tier is indexed already, so rewriting a score
    /// stays a heap-only update where it was one.
    static let consoleListIndexes = Migration(
        version: 24,
        name: "tier list index",
        sql: """
            CREATE INDEX IF NOT EXISTS customer_scores_tier_customer ON customer_scores (tier, customer_id);
            """
    )
}
