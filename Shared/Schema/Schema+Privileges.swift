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
            grants.notes = try restrictPublic(on: connection)
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
                try connection.execute("REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM \(role)")
                for function in account.functions {
                    try connection.execute("GRANT EXECUTE ON FUNCTION \(try signature(function)) TO \(role)")
                }
                grants.granted.append(account.name)
            }
            return grants
        }
    }

    /// Takes from PUBLIC (every role, the services' included) what would let a role create something: temporary
    /// tables and functions (`TEMPORARY` on the database; scoring alone gets it back, for its staging table), objects in
    /// `public`, and large objects (`lo_create` and its kin). The first two need the database's owner, the last a
    /// superuser; what the current account cannot do is left and returned as a note.
    static func restrictPublic(on connection: isolated PostgresConnection) throws -> [String] {
        let rights = try connection.query(
            """
            SELECT r.rolsuper, pg_has_role(current_user, d.datdba, 'MEMBER'),
                   pg_has_role(current_user, n.nspowner, 'MEMBER')
            FROM pg_roles r, pg_database d, pg_namespace n
            WHERE r.rolname = current_user AND d.datname = current_database() AND n.nspname = 'public'
            """
        )
        guard let row = rights.first else { return [] }
        let (superuser, ownsDatabase, ownsSchema) = (
            try row.decode(0, as: Bool.self), try row.decode(1, as: Bool.self), try row.decode(2, as: Bool.self)
        )
        var notes: [String] = []
        if superuser || ownsDatabase {
            let revoke = try connection.query(
                "SELECT format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database())"
            )
            try connection.execute(revoke[0][0] ?? "")
        } else {
            notes.append("TEMPORARY on the database left to PUBLIC: only its owner can take it")
        }
        if superuser || ownsSchema {
            try connection.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        }
        if superuser {
            try connection.execute(
                """
                REVOKE EXECUTE ON FUNCTION pg_catalog.lo_creat(integer), pg_catalog.lo_create(oid),
                    pg_catalog.lo_from_bytea(oid, bytea), pg_catalog.lo_import(text), pg_catalog.lo_import(text, oid)
                FROM PUBLIC
                """
            )
        } else {
            notes.append("large-object creation left to PUBLIC: only a superuser can take it (crm accounts does)")
        }
        return notes
    }

    /// A function signature from a code constant (`crm_refuse_held_refunds(text[])`).
    static func signature(_ text: String) throws(PostgresError) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_(), []")
        guard !text.isEmpty, text.allSatisfy(allowed.contains), text.hasSuffix(")") else {
            throw PostgresError(.serverError, message: "not a function signature: \(text)")
        }
        return text
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
    /// What could not be taken from PUBLIC with the current account.
    public var notes: [String] = []

    public init(granted: [String] = [], absent: [String] = [], notes: [String] = []) {
        self.granted = granted
        self.absent = absent
        self.notes = notes
    }

    /// One line for operators.
    public var summary: String {
        var parts: [String] = []
        if !granted.isEmpty { parts.append("Privileges granted to \(granted.joined(separator: ", ")).") }
        if !absent.isEmpty {
            parts.append("No role \(absent.joined(separator: ", ")): skipped (crm accounts creates them).")
        }
        for note in notes { parts.append("Note: \(note).") }
        return parts.joined(separator: " ")
    }
}
