import CRMPostgres
import CRMSchema
import Foundation
import TestSupport
import Testing

extension SystemTests {
    /// Each service's own account reaches its own tables and queues, and nothing of the others'; the real services
    /// do their whole job with nothing more.
    @Suite("Least privilege", .serialized)
    struct PrivilegeTests {
        /// The SQLSTATE a statement fails with, or nil when it succeeds.
        static func sqlState(_ connection: PostgresConnection, _ sql: String) async -> String? {
            do {
                try await connection.execute(sql)
                return nil
            } catch {
                return error.sqlState ?? "connection"
            }
        }

        /// What a grant string (`SELECT, INSERT`, `SELECT (customer_id, status)`) allows.
        struct Allowed: Equatable, CustomStringConvertible {
            var select = false
            var columns: [String] = []
            var insert = false
            var update = false
            var delete = false

            init(_ grant: String?) {
                guard let grant else { return }
                if let open = grant.firstIndex(of: "(") {
                    columns = grant[grant.index(after: open)...].dropLast().split(separator: ",").map {
                        $0.trimmingCharacters(in: .whitespaces)
                    }
                    return
                }
                let words = Set(grant.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                (select, insert, update, delete) =
                    (
                        words.contains("SELECT"), words.contains("INSERT"), words.contains("UPDATE"),
                        words.contains("DELETE")
                    )
            }

            var description: String {
                "select \(select) columns \(columns) insert \(insert) update \(update) delete \(delete)"
            }
        }

        @Test func eachRoleReadsAndWritesExactlyItsTables() async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                try await environment.grantServiceAccounts()
                let tables = try await environment.pool.query(
                    """
                    SELECT c.relname, (SELECT a.attname FROM pg_attribute a
                                       WHERE a.attrelid = c.oid AND a.attnum = 1)
                    FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' ORDER BY 1
                    """
                ).map { (table: try $0.decode(0, as: String.self), column: try $0.decode(1, as: String.self)) }
                #expect(tables.count >= 20, "the migrated schema has \(tables.count) tables")
                let sequences = try await environment.pool.query(
                    """
                    SELECT s.relname, t.relname FROM pg_class s
                    JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i') JOIN pg_class t ON t.oid = d.refobjid
                    WHERE s.relkind = 'S' AND s.relnamespace = 'public'::regnamespace
                    """
                ).map { (try $0.decode(0, as: String.self), try $0.decode(1, as: String.self)) }
                #expect(sequences.count >= 5)
                // A table no service is granted is either an operator's or a forgotten grant.
                let granted = Set(ServiceAccount.allCases.flatMap(\.tables.keys)).union(
                    ServiceAccount.commonTables.keys
                )
                let ungranted = Set(tables.map(\.table)).subtracting(granted).subtracting(ServiceAccount.operatorTables)
                #expect(ungranted.isEmpty, "tables no service account is granted: \(ungranted.sorted())")
                for account in ServiceAccount.allCases {
                    let connection = PostgresConnection(
                        url: try environment.databaseURL(as: account),
                        applicationName: account.name,
                        logger: TestServers.logger
                    )
                    #expect(try await connection.query("SELECT current_user")[0][0] == account.name)
                    let grants = account.grantedTables
                    for (table, column) in tables {
                        let allowed = Allowed(grants[table])
                        let probes: [(what: String, sql: String, expected: Bool)] = [
                            ("SELECT *", "SELECT * FROM \(table) LIMIT 0", allowed.select),
                            ("INSERT", "INSERT INTO \(table) SELECT * FROM \(table) WHERE false", allowed.insert),
                            ("UPDATE", "UPDATE \(table) SET \(column) = \(column) WHERE false", allowed.update),
                            ("DELETE", "DELETE FROM \(table) WHERE false", allowed.delete),
                        ]
                        for probe in probes {
                            let state = await Self.sqlState(connection, probe.sql)
                            if probe.expected {
                                #expect(state == nil, "\(account.name) cannot \(probe.what) \(table): \(state ?? "")")
                            } else {
                                #expect(
                                    state == "42501",
                                    "\(account.name) may \(probe.what) \(table) (\(state ?? "allowed"))"
                                )
                            }
                        }
                        if !allowed.columns.isEmpty {
                            let sql = "SELECT \(allowed.columns.joined(separator: ", ")) FROM \(table) LIMIT 0"
                            #expect(await Self.sqlState(connection, sql) == nil, "\(account.name): \(sql)")
                        }
                    }
                    // Nothing else: no new tables, schemas, large objects, or temporary tables and functions (scoring
                    // alone stages its rescoring in a temporary table), and only the sequences of the tables it
                    // inserts into and the functions granted to it.
                    #expect(await Self.sqlState(connection, "CREATE TABLE stolen (a int)") == "42501")
                    #expect(await Self.sqlState(connection, "CREATE SCHEMA stolen") == "42501")
                    #expect(await Self.sqlState(connection, "SELECT lo_create(0)") == "42501", "\(account.name)")
                    #expect(await Self.sqlState(connection, "SELECT lo_from_bytea(0, 'x')") == "42501")
                    let temporary = await Self.sqlState(connection, "CREATE TEMP TABLE stolen (a int)")
                    let function = await Self.sqlState(
                        connection,
                        "CREATE FUNCTION pg_temp.stolen() RETURNS int LANGUAGE sql AS 'SELECT 1'"
                    )
                    if account.databasePrivileges.contains("TEMPORARY") {
                        #expect(temporary == nil && function == nil, "\(account.name) cannot stage its rescoring")
                    } else {
                        #expect(temporary == "42501", "\(account.name) created a temporary table")
                        #expect(function == "42501", "\(account.name) created a temporary function")
                    }
                    let refuse = await Self.sqlState(connection, "SELECT crm_refuse_held_refunds(ARRAY[]::text[])")
                    #expect((refuse == nil) == account.functions.contains("crm_refuse_held_refunds(text[])"))
                    for (sequence, table) in sequences {
                        let state = await Self.sqlState(connection, "SELECT nextval('\(sequence)')")
                        if Allowed(grants[table]).insert {
                            #expect(state == nil, "\(account.name) cannot draw from \(sequence)")
                        } else {
                            #expect(state == "42501", "\(account.name) may draw from \(sequence)")
                        }
                    }
                    await connection.close()
                }
            }
        }

        @Test func eachRoleSeesAndWritesOnlyItsOwnOutboxRows() async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                try await environment.grantServiceAccounts()
                let publishing = ServiceAccount.allCases.filter { $0.grantedTables["crm_outbox"] != nil }
                #expect(publishing.count == 4, "the console publishes nothing")
                let console = PostgresConnection(
                    url: try environment.databaseURL(as: .console),
                    applicationName: "crm_console",
                    logger: TestServers.logger
                )
                #expect(await Self.sqlState(console, "SELECT 1 FROM crm_outbox LIMIT 0") == "42501")
                await console.close()
                for account in publishing {
                    try await environment.pool.execute(
                        "INSERT INTO crm_outbox (source, exchange, routing_key, message_id, body) VALUES ($1, 'x', 'y', $2, '{}')",
                        [account.outboxSource, "m-\(account.rawValue)"]
                    )
                }
                for account in publishing {
                    let connection = PostgresConnection(
                        url: try environment.databaseURL(as: account),
                        applicationName: account.name,
                        logger: TestServers.logger
                    )
                    let visible = try await connection.query("SELECT source FROM crm_outbox").compactMap { $0[0] }
                    #expect(visible == [account.outboxSource], "\(account.name) sees outbox rows of \(visible)")
                    #expect(try await connection.execute("UPDATE crm_outbox SET attempts = attempts + 1") == 1)
                    #expect(
                        try await connection.execute(
                            "DELETE FROM crm_outbox WHERE source <> $1",
                            [account.outboxSource]
                        ) == 0
                    )
                    let other = publishing.first { $0 != account }!.outboxSource
                    let insert =
                        "INSERT INTO crm_outbox (source, exchange, routing_key, message_id, body) VALUES ('\(other)', 'x', 'y', 'forged', '{}')"
                    #expect(
                        await Self.sqlState(connection, insert) == "42501",
                        "\(account.name) wrote a row as \(other)"
                    )
                    await connection.close()
                }
                let attempts = try await environment.pool.query("SELECT count(*) FROM crm_outbox WHERE attempts = 1")
                #expect(attempts[0][0] == "4")
            }
        }

        @Test func eachRoleSeesAndWritesOnlyItsOwnReplicasRows() async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                try await environment.grantServiceAccounts()
                for account in ServiceAccount.allCases {
                    try await environment.pool.execute(
                        """
                        INSERT INTO crm_instances (instance_id, service, host, version, started_at, last_seen_at)
                        VALUES ($1, $2, 'h', 'v', now(), now())
                        """,
                        ["i-\(account.rawValue)", account.executable]
                    )
                }
                for account in ServiceAccount.allCases {
                    let connection = PostgresConnection(
                        url: try environment.databaseURL(as: account),
                        applicationName: account.name,
                        logger: TestServers.logger
                    )
                    let visible = try await connection.query("SELECT service FROM crm_instances").compactMap { $0[0] }
                    #expect(visible == [account.executable], "\(account.name) sees replicas of \(visible)")
                    #expect(
                        try await connection.execute(
                            "DELETE FROM crm_instances WHERE service <> $1",
                            [account.executable]
                        ) == 0
                    )
                    let other = ServiceAccount.allCases.first { $0 != account }!.executable
                    let forged = """
                        INSERT INTO crm_instances (instance_id, service, host, version, started_at, last_seen_at)
                        VALUES ('forged', '\(other)', 'h', 'v', now(), now())
                        """
                    #expect(
                        await Self.sqlState(connection, forged) == "42501",
                        "\(account.name) wrote a replica of \(other)"
                    )
                    await connection.close()
                }
                let rows = try await environment.pool.query("SELECT count(*) FROM crm_instances")
                #expect(rows[0][0] == "\(ServiceAccount.allCases.count)")
            }
        }

        @Test func crmAccountsAndMigrateSetUpTheAccountsWithoutShowingAPassword() async throws {
            try await TestServers.withEnvironment(migrate: false) { environment in
                var variables = environment.serviceVariables
                let migrate = try Shell.execute("crm", arguments: ["migrate", "--skip-broker"], environment: variables)
                #expect(migrate.status == 0)
                #expect(
                    migrate.output.contains(
                        "Privileges granted to crm_intake, crm_scoring, crm_alerts, crm_complaints, crm_console."
                    )
                )

                variables["CRM_RABBITMQ_API"] = TestServers.managementAPI
                variables["CRM_INTAKE_PASSWORD"] = "change-me"
                let placeholder = try Shell.execute("crm", arguments: ["accounts"], environment: variables)
                #expect(placeholder.status != 0, "crm accounts accepted the placeholder password")

                var passwords: [String] = []
                for account in ServiceAccount.allCases {
                    let password = try TestServers.password(of: account)
                    variables[account.passwordVariable] = password
                    passwords.append(password)
                }
                variables["CRM_CONSOLE_ADMIN_PASSWORD"] = "first admin's password"
                let accounts = try Shell.execute("crm", arguments: ["accounts"], environment: variables)
                #expect(accounts.status == 0, "\(accounts.output)")
                #expect(accounts.output.contains("crm_complaints"))
                #expect(accounts.output.contains("Console user admin added as admin."))
                for password in passwords + ["first admin's password"] { #expect(!accounts.output.contains(password)) }
                let admin = try await environment.pool.query("SELECT role, password_hash FROM console_users")
                #expect(admin.count == 1 && admin.first?[0] == "admin" && admin.first?[1]?.hasPrefix("$2b$") == true)
                let again = try Shell.execute("crm", arguments: ["accounts"], environment: variables)
                #expect(again.output.contains("Console user admin exists: left as it is."))
                // The same as one JSON object, for scripts.
                let structured = try Shell.execute("crm", arguments: ["accounts", "--json"], environment: variables)
                #expect(structured.status == 0, "\(structured.output)")
                let object = try #require(
                    try JSONSerialization.jsonObject(with: Data(structured.output.utf8)) as? [String: Any],
                    "\(structured.output)"
                )
                #expect(Set(object["roles"] as? [String] ?? []) == Set(ServiceAccount.allCases.map(\.name)))
                #expect(
                    Set(object["broker_users"] as? [String] ?? []) == Set(ServiceAccount.brokerAccounts.map(\.name))
                )
                #expect((object["console_user"] as? [String: Any])?["added"] as? Bool == false)
                for password in passwords { #expect(!structured.output.contains(password)) }

                let roles = try await environment.pool.query(
                    "SELECT rolname FROM pg_authid WHERE rolname = ANY($1) AND rolcanlogin AND NOT rolsuper AND NOT rolbypassrls "
                        + "AND NOT rolcreaterole AND NOT rolcreatedb AND rolpassword LIKE 'SCRAM-SHA-256$%'",
                    [ServiceAccount.allCases.map(\.name)]
                )
                #expect(roles.count == 5, "roles set up: \(roles.compactMap { $0[0] })")
                for account in ServiceAccount.brokerAccounts {
                    let data = try await ManagementAPI.request(
                        "GET",
                        "/api/permissions/\(environment.virtualHost.name)/\(account.name)"
                    )
                    let set = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
                    let expected = account.brokerPermissions
                    #expect(set["configure"] as? String == expected.configure)
                    #expect(set["write"] as? String == expected.write)
                    #expect(set["read"] as? String == expected.read)
                    let topics = try #require(
                        try JSONSerialization.jsonObject(
                            with: try await ManagementAPI.request(
                                "GET",
                                "/api/topic-permissions/\(environment.virtualHost.name)/\(account.name)"
                            )
                        ) as? [[String: Any]]
                    )
                    let byExchange = Dictionary(
                        uniqueKeysWithValues: topics.compactMap { topic in
                            (topic["exchange"] as? String).map { ($0, topic["write"] as? String) }
                        }
                    )
                    #expect(byExchange.count == account.topicPermissions.count)
                    for permission in account.topicPermissions {
                        #expect(byExchange[permission.exchange] == permission.write, "\(account.name)")
                    }
                }
            }
        }
    }
}
