extension Schema {
    /// Row-level security on the shared outbox: a service role sees and changes only the rows of its own
    /// source (`crm_intake` → `intake`). The owner and superusers (migrations, `crm`) are not restricted.
    static let privileges = Migration(
        version: 6, name: "outbox row security",
        sql: """
            ALTER TABLE crm_outbox ENABLE ROW LEVEL SECURITY;
            CREATE POLICY crm_outbox_own_source ON crm_outbox
                USING (source = regexp_replace(current_user, '^crm_', ''))
                WITH CHECK (source = regexp_replace(current_user, '^crm_', ''));
            """)

    /// Grants each existing service role exactly its privileges (``ServiceAccount/tables``), after revoking
    /// everything it had on the schema's tables. Idempotent; returns the roles granted. Identifiers come from
    /// code constants only.
    public static func grantServiceRoles(on connection: isolated PostgresConnection) throws -> [String] {
        let existing = Set(
            try connection.query(
                "SELECT rolname FROM pg_roles WHERE rolname = ANY($1)", [ServiceAccount.allCases.map(\.name)]
            ).compactMap { $0[0] })
        return try connection.transaction { connection in
            var granted: [String] = []
            for account in ServiceAccount.allCases where existing.contains(account.name) {
                let role = try identifier(account.name)
                let database = try connection.query("SELECT current_database()")[0][0] ?? ""
                try connection.execute("GRANT CONNECT, TEMPORARY ON DATABASE \(try identifier(database)) TO \(role)")
                try connection.execute("GRANT USAGE ON SCHEMA public TO \(role)")
                try connection.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM \(role)")
                try connection.execute("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM \(role)")
                let tables = account.tables.merging(ServiceAccount.commonTables) { own, _ in own }
                for (table, privileges) in tables.sorted(by: { $0.key < $1.key }) {
                    try connection.execute("GRANT \(privileges) ON TABLE \(try identifier(table)) TO \(role)")
                }
                // The sequences behind the tables it inserts into.
                let sequences = try connection.query(
                    """
                    SELECT DISTINCT s.relname FROM pg_class s
                    JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
                    JOIN pg_class t ON t.oid = d.refobjid
                    WHERE s.relkind = 'S' AND t.relname = ANY($1)
                    """, [tables.filter { $0.value.contains("INSERT") }.map(\.key)])
                for row in sequences {
                    try connection.execute("GRANT USAGE ON SEQUENCE \(try identifier(row[0] ?? "")) TO \(role)")
                }
                granted.append(account.name)
            }
            return granted
        }
    }

    /// A quoted SQL identifier from a code constant; anything but lower-case letters, digits and `_` is refused.
    static func identifier(_ name: String) throws(PostgresError) -> String {
        guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 })
        else { throw PostgresError(.serverError, message: "not a plain identifier: \(name)") }
        return "\"\(name)\""
    }
}
