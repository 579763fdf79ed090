import CRMPostgres

extension Schema {
    /// Row-level security on the shared outbox: a service role sees and changes only the rows of its own
    /// source (`crm_intake` → `intake`). The owner and superusers (migrations, `crm`) are not restricted.
    static let privileges = Migration(
        version: 6,
        name: "outbox row security",
        sql: """
            ALTER TABLE crm_outbox ENABLE ROW LEVEL SECURITY;
            CREATE POLICY crm_outbox_own_source ON crm_outbox
                USING (source = regexp_replace(current_user, '^crm_', ''))
                WITH CHECK (source = regexp_replace(current_user, '^crm_', ''));
            """
    )

    /// Row-level security on the replica registry: a service role sees and changes only its own replicas' rows
    /// (`crm_intake` → `crm-intake`), so no service can hide or forge another's replicas in `crm status`.
    static let instancePrivileges = Migration(
        version: 7,
        name: "instances row security",
        sql: """
            ALTER TABLE crm_instances ENABLE ROW LEVEL SECURITY;
            CREATE POLICY crm_instances_own_service ON crm_instances
                USING (service = replace(current_user, '_', '-'))
                WITH CHECK (service = replace(current_user, '_', '-'));
            """
    )

    /// Grants each existing service role exactly its privileges (``ServiceAccount/tables``), after revoking
    /// everything it had on the schema's tables and sequences, in one transaction under an advisory lock (two
    /// migrators granting at once would otherwise collide on the catalog). Idempotent. Roles that do not exist
    /// are skipped and reported. Identifiers come from code constants only; the database's name is quoted by
    /// the server (`format('%I')`).
    public static func grantServiceRoles(on connection: isolated PostgresConnection) throws -> ServiceGrants {
        try connection.transaction { connection in
            try connection.execute("SELECT pg_advisory_xact_lock($1)", [grantLockKey])
            let existing = Set(
                try connection.query(
                    "SELECT rolname FROM pg_roles WHERE rolname = ANY($1)",
                    [ServiceAccount.allCases.map(\.name)]
                ).compactMap { $0[0] }
            )
            var grants = ServiceGrants()
            for account in ServiceAccount.allCases {
                guard existing.contains(account.name) else {
                    grants.absent.append(account.name)
                    continue
                }
                let role = try identifier(account.name)
                let onDatabase = try connection.query(
                    """
                    SELECT format('REVOKE ALL ON DATABASE %I FROM %I', current_database(), $2::text),
                           format('GRANT %s ON DATABASE %I TO %I', $1::text, current_database(), $2::text)
                    """,
                    [try privileges(account.databasePrivileges), account.name]
                )
                try connection.execute(onDatabase[0][0] ?? "")
                try connection.execute(onDatabase[0][1] ?? "")
                try connection.execute("GRANT USAGE ON SCHEMA public TO \(role)")
                try connection.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM \(role)")
                try connection.execute("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM \(role)")
                let tables = account.grantedTables
                for (table, granted) in tables.sorted(by: { $0.key < $1.key }) {
                    try connection.execute(
                        "GRANT \(try privileges(granted)) ON TABLE \(try identifier(table)) TO \(role)"
                    )
                }
                // The sequences behind the tables it inserts into.
                let sequences = try connection.query(
                    """
                    SELECT DISTINCT s.relname FROM pg_class s
                    JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
                    JOIN pg_class t ON t.oid = d.refobjid
                    WHERE s.relkind = 'S' AND t.relname = ANY($1) AND t.relnamespace = 'public'::regnamespace
                    """,
                    [tables.filter { $0.value.contains("INSERT") }.map(\.key)]
                )
                for row in sequences {
                    try connection.execute("GRANT USAGE ON SEQUENCE \(try identifier(row[0] ?? "")) TO \(role)")
                }
                grants.granted.append(account.name)
            }
            return grants
        }
    }

    /// The advisory lock that serialises grants ("CRM_GRNT").
    static let grantLockKey: Int64 = 0x4352_4D5F_4752_4E54

    /// A quoted SQL identifier from a code constant; anything but lower-case letters, digits and `_` is refused.
    static func identifier(_ name: String) throws(PostgresError) -> String {
        guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 })
        else { throw PostgresError(.serverError, message: "not a plain identifier: \(name)") }
        return "\"\(name)\""
    }

    /// A privilege list from a code constant (`SELECT, INSERT`, `SELECT (customer_id, status)`); anything but
    /// letters, `_`, commas, spaces and parentheses is refused.
    static func privileges(_ list: String) throws(PostgresError) -> String {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_, ()")
        guard !list.isEmpty, list.allSatisfy(allowed.contains) else {
            throw PostgresError(.serverError, message: "not a privilege list: \(list)")
        }
        return list
    }
}

/// What ``Schema/grantServiceRoles(on:)`` did: the roles granted their privileges, and those that do not exist.
public struct ServiceGrants: Sendable, Equatable {
    public var granted: [String] = []
    public var absent: [String] = []

    public init(granted: [String] = [], absent: [String] = []) {
        self.granted = granted
        self.absent = absent
    }

    /// One line for operators.
    public var summary: String {
        var parts: [String] = []
        if !granted.isEmpty { parts.append("Privileges granted to \(granted.joined(separator: ", ")).") }
        if !absent.isEmpty {
            parts.append("No role \(absent.joined(separator: ", ")): skipped (crm accounts creates them).")
        }
        return parts.joined(separator: " ")
    }
}
