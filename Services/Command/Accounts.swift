import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Shared

/// `crm accounts`: one PostgreSQL role and one RabbitMQ user per service, with least privilege.
struct Accounts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or update each service's own database role and broker user, with only what it needs.",
        discussion: """
            For every service whose password is set — CRM_INTAKE_PASSWORD, CRM_SCORING_PASSWORD, CRM_ALERTS_PASSWORD,
            CRM_COMPLAINTS_PASSWORD — creates (or updates the password of) the PostgreSQL role crm_<service> and
            grants it exactly its tables, and creates the RabbitMQ user crm_<service> with configure/write/read
            permissions on the vhost of CRM_AMQP_URL limited to its own exchanges and queues (through the management
            API at CRM_RABBITMQ_API, default http://<broker host>:15672, as CRM_RABBITMQ_API_USER and
            CRM_RABBITMQ_API_PASSWORD, by default the CRM_AMQP_URL user, who must then be an administrator). Run it with administrator URLs after crm migrate; give each service its own URLs:
            postgres://crm_intake:<password>@host/crm and amqp://crm_intake:<password>@host/vhost.
            Passwords are read from the environment only and never printed.
            """)

    @Flag(help: "Only the database roles; leave the broker alone.")
    var skipBroker = false

    func run() async throws {
        let environment = CommandEnvironment()
        let accounts = ServiceAccount.allCases.compactMap { account -> (ServiceAccount, String)? in
            environment.settings.string("CRM_\(account.rawValue.uppercased())_PASSWORD").map { (account, $0) }
        }
        guard !accounts.isEmpty else {
            throw CommandFailure.configuration(
                "set CRM_INTAKE_PASSWORD, CRM_SCORING_PASSWORD, CRM_ALERTS_PASSWORD and/or CRM_COMPLAINTS_PASSWORD")
        }
        let pool = try environment.pool()
        let granted = try await pool.withConnection { connection in
            try await connection.transaction { connection in
                for (account, password) in accounts {
                    // Role names are code constants; the password travels as a parameter into format(%L).
                    let exists = try connection.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [account.name])
                    let verb = exists.isEmpty ? "CREATE ROLE %I LOGIN PASSWORD %L" : "ALTER ROLE %I LOGIN PASSWORD %L"
                    let statement = try connection.query("SELECT format($1, $2::text, $3::text)", [verb, account.name, password])
                    try connection.execute(statement[0][0] ?? "")
                }
                return try Schema.grantServiceRoles(on: connection)
            }
        }
        await pool.close()
        print("Database roles with their privileges: \(granted.joined(separator: ", ")).")
        guard !skipBroker else { return }

        let amqp = try environment.amqp()
        let api = environment.settings.string("CRM_RABBITMQ_API", default: "http://\(amqp.host):15672")
        let management = BrokerManagement(
            api: api, user: environment.settings.string("CRM_RABBITMQ_API_USER", default: amqp.user),
            password: environment.settings.string("CRM_RABBITMQ_API_PASSWORD", default: amqp.password))
        for (account, password) in accounts {
            try await management.put("/api/users/\(account.name)", ["password": password, "tags": ""])
            let permissions = account.brokerPermissions(desks: [])
            try await management.put(
                "/api/permissions/\(BrokerManagement.escape(amqp.virtualHost))/\(account.name)",
                ["configure": permissions.configure, "write": permissions.write, "read": permissions.read])
        }
        print("Broker users with their permissions on vhost \(amqp.virtualHost): \(accounts.map(\.0.name).joined(separator: ", ")).")
    }
}

/// The RabbitMQ management HTTP API, as much as `crm accounts` needs.
struct BrokerManagement {
    let api: String
    let user: String
    let password: String

    static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? segment
    }

    func put(_ path: String, _ body: [String: String]) async throws {
        guard let url = URL(string: api + path) else { throw CommandFailure.configuration("bad CRM_RABBITMQ_API: \(api)") }
        var request = URLRequest(url: url)
        request.httpMethod = "PUT"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let credentials = Data("\(user):\(password)".utf8).base64EncodedString()
        request.setValue("Basic \(credentials)", forHTTPHeaderField: "Authorization")
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let (_, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw CommandFailure.configuration("the broker's management API answered \(status) to PUT \(path)")
        }
    }
}
