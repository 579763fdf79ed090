import ArgumentParser
import Console
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
import CRMSupport
import CRMPostgres
import CRMSchema
#endif

/// `crm accounts`: one PostgreSQL role and one RabbitMQ user per service, with least privilege.
struct Accounts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or update each service's own database role and broker user, with only what it needs.",
        discussion: """
            For every service whose password is set (CRM_INTAKE_PASSWORD, CRM_SCORING_PASSWORD, \
            CRM_ALERTS_PASSWORD, CRM_COMPLAINTS_PASSWORD, CRM_CONSOLE_PASSWORD), creates the PostgreSQL role \
            crm_<service> or sets its password, and grants it exactly its tables in the database of \
            CRM_DATABASE_URL (whose account needs CREATEROLE, or is a superuser). With CRM_CONSOLE_ADMIN_PASSWORD \
            set, it also adds the web console's first user, CRM_CONSOLE_ADMIN_USER (default admin), with the role \
            admin, unless that user exists. Then creates the RabbitMQ user crm_<service> (the console has none: it \
            reads the database only) or sets its password, with no configure permission, write permission on the \
            exchanges it publishes to with topic permissions limiting the routing keys to its own, and read \
            permission on the queues it consumes, on the vhost of \
            CRM_AMQP_URL, through the management API at CRM_RABBITMQ_API (default http://<broker host>:15672) as \
            CRM_RABBITMQ_API_USER and CRM_RABBITMQ_API_PASSWORD (default: the CRM_AMQP_URL account, which must then \
            be an administrator).

            Run it with administrator URLs after crm migrate, and give each service its own URLs: \
            postgres://crm_intake:<password>@host/crm and amqp://crm_intake:<password>@host/vhost.

            Passwords are read from the environment only and never printed; PostgreSQL receives only their \
            SCRAM-SHA-256 verifiers, computed here. Idempotent: run it again to rotate a password.
            """
    )

    @Flag(help: "Only the database roles; leave the broker alone.")
    var skipBroker = false

    @Flag(help: "Require the password of every service (what a deployment of all four needs).")
    var all = false

    @Flag(help: "Print what was set up as one JSON object (roles, grants, console user, broker users).")
    var json = false

    /// Passwords shorter than this are refused, and so is the placeholder of `.env.example`.
    static let minimumPasswordLength = 12

    func run() async throws {
        let environment = CommandEnvironment()
        let accounts = try Self.passwords(environment.settings)
        let given = Set(accounts.map(\.account))
        if all, let missing = ServiceAccount.allCases.first(where: { !given.contains($0) }) {
            throw CommandFailure.configuration("\(missing.passwordVariable): required but not set (--all)")
        }
        let pool = try environment.pool()
        let grants: ServiceGrants
        do {
            grants = try await pool.withConnection { connection in
                try await connection.transaction { connection in
                    for (account, password) in accounts {
                        try Self.setRole(account, password: password, on: connection)
                    }
                    return try Schema.grantServiceRoles(on: connection)
                }
            }
        } catch {
            await pool.close()
            throw error
        }
        var result: [String: Any] = [
            "roles": accounts.map(\.account.name), "granted": grants.granted, "absent_roles": grants.absent,
            "broker_users": [String](),
        ]
        if !json { print("Database roles: \(accounts.map(\.account.name).joined(separator: ", ")). \(grants.summary)") }
        do {
            let admin = try await Self.addConsoleAdmin(environment.settings, pool: pool)
            if let admin {
                result["console_user"] = ["name": admin.name, "added": admin.added]
                if !json {
                    print(
                        admin.added
                            ? "Console user \(admin.name) added as admin."
                            : "Console user \(admin.name) exists: left as it is."
                    )
                }
            }
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
        let brokerAccounts = accounts.filter(\.account.usesBroker)
        guard !skipBroker, !brokerAccounts.isEmpty else {
            if json { print(try JSONOutput.string(result)) }
            return
        }

        let amqp = try environment.amqp()
        let management = BrokerManagement(
            api: environment.settings.string("CRM_RABBITMQ_API", default: "http://\(amqp.host):15672"),
            user: environment.settings.string("CRM_RABBITMQ_API_USER", default: amqp.user),
            password: environment.settings.string("CRM_RABBITMQ_API_PASSWORD", default: amqp.password)
        )
        let vhost = BrokerManagement.escape(amqp.virtualHost)
        for (account, password) in brokerAccounts {
            let user = BrokerManagement.escape(account.name)
            try await management.send("PUT", "/api/users/\(user)", ["password": password, "tags": ""])
            let permissions = account.brokerPermissions
            try await management.send(
                "PUT",
                "/api/permissions/\(vhost)/\(user)",
                ["configure": permissions.configure, "write": permissions.write, "read": permissions.read]
            )
            // Topic permissions replace whatever the user had: an exchange left out would allow every key.
            try await management.send("DELETE", "/api/topic-permissions/\(vhost)/\(user)", allowNotFound: true)
            for permission in account.topicPermissions {
                try await management.send("PUT", "/api/topic-permissions/\(vhost)/\(user)", permission.body)
            }
        }
        result["broker_users"] = brokerAccounts.map(\.account.name)
        result["vhost"] = amqp.virtualHost
        if json {
            print(try JSONOutput.string(result))
        } else {
            print(
                "Broker users with their permissions on vhost \(amqp.virtualHost): "
                    + "\(brokerAccounts.map(\.account.name).joined(separator: ", "))."
            )
        }
    }

    /// The console's first administrator, from `CRM_CONSOLE_ADMIN_PASSWORD` (and `CRM_CONSOLE_ADMIN_USER`, default
    /// `admin`), added once: an existing user of that name is left as it is (its password may have been changed).
    /// Returns the user's name and whether it was added; nil without the password.
    static func addConsoleAdmin(_ settings: Settings, pool: PostgresPool) async throws -> (name: String, added: Bool)? {
        guard let password = settings.string("CRM_CONSOLE_ADMIN_PASSWORD"), !password.isEmpty else { return nil }
        let name = settings.string("CRM_CONSOLE_ADMIN_USER", default: "admin")
        guard ConsoleUsers.isValidName(name) else {
            throw CommandFailure.configuration("CRM_CONSOLE_ADMIN_USER: '\(name)' is not a user name")
        }
        if let problem = PasswordHasher.problem(with: password), password != "change-me" {
            throw CommandFailure.configuration("CRM_CONSOLE_ADMIN_PASSWORD: \(problem)")
        }
        guard password != "change-me" else {
            throw CommandFailure.configuration(
                "CRM_CONSOLE_ADMIN_PASSWORD: use a generated password, not the example's"
            )
        }
        switch try await ConsoleUsers.add(name: name, role: .admin, password: password, replace: false, pool: pool) {
        case .added: return (name, true)
        case .exists, .updated: return (name, false)
        }
    }

    /// The accounts whose password is set, each checked.
    static func passwords(_ settings: Settings) throws -> [(account: ServiceAccount, password: String)] {
        let accounts = ServiceAccount.allCases.compactMap { account in
            settings.string(account.passwordVariable).map { (account: account, password: $0) }
        }
        guard !accounts.isEmpty else {
            throw CommandFailure.configuration(
                "set \(ServiceAccount.allCases.map(\.passwordVariable).joined(separator: ", ")) (any of them)"
            )
        }
        for (account, password) in accounts {
            guard password != "change-me", password.count >= minimumPasswordLength else {
                throw CommandFailure.configuration(
                    "\(account.passwordVariable): use a generated password of at least \(minimumPasswordLength) "
                        + "characters (e.g. openssl rand -hex 24)"
                )
            }
        }
        return accounts
    }

    /// Creates the role or sets its password, from a verifier computed here; refuses a role that could bypass
    /// its grants (a superuser, or one with BYPASSRLS).
    static func setRole(
        _ account: ServiceAccount,
        password: String,
        on connection: isolated PostgresConnection
    ) throws {
        let verifier = try connection.encryptedPassword(password, user: account.name)
        let existing = try connection.query(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = $1",
            [account.name]
        )
        if let row = existing.first, try row.decode(0, as: Bool.self) {
            throw CommandFailure.configuration(
                "role \(account.name) is a superuser or bypasses row-level security: it cannot be a service's account"
            )
        }
        // The role's name is a code constant and the verifier a parameter; format() quotes both.
        let template = existing.isEmpty ? "CREATE ROLE %I LOGIN PASSWORD %L" : "ALTER ROLE %I LOGIN PASSWORD %L"
        let statement = try connection.query(
            "SELECT format($1, $2::text, $3::text)",
            [template, account.name, verifier]
        )
        try connection.execute(statement[0][0] ?? "")
    }
}

/// The RabbitMQ management HTTP API, as much as `crm accounts` needs.
struct BrokerManagement {
    let api: String
    let user: String
    let password: String

    /// One path segment, percent-encoded (the default vhost `/` is `%2F`).
    static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? segment
    }

    func send(
        _ method: String,
        _ path: String,
        _ body: [String: String]? = nil,
        allowNotFound: Bool = false
    )
        async throws
    {
        guard let url = URL(string: api + path) else {
            throw CommandFailure.configuration("bad CRM_RABBITMQ_API: \(api)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let credentials = Data("\(user):\(password)".utf8).base64EncodedString()
        request.setValue("Basic \(credentials)", forHTTPHeaderField: "Authorization")
        if let body { request.httpBody = try JSONSerialization.data(withJSONObject: body) }
        let response: URLResponse
        do {
            (_, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CommandFailure.configuration(
                "the broker's management API at \(api) did not answer: \(error.localizedDescription)"
            )
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) || (allowNotFound && status == 404) else {
            // The path names the user, never its password.
            throw CommandFailure.configuration("the broker's management API answered \(status) to \(method) \(path)")
        }
    }
}
