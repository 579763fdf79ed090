import CRMAMQP
import CRMSchema
import Foundation

/// The per-service accounts of the test servers: the PostgreSQL roles and RabbitMQ users `crm_intake`, ...,
/// created by `scripts/servers.sh` with the passwords it exports as `CRM_TEST_<SERVICE>_PASSWORD`.
///
/// Roles and users are global to their server, so tests never change their passwords (other worktrees' tests use
/// the same ones); what a test changes is per database and per vhost: the grants and the broker permissions.
extension TestServers {
    /// The password of a service's accounts (`CRM_TEST_INTAKE_PASSWORD`, ...).
    public static func password(of account: ServiceAccount) throws -> String {
        let name = "CRM_TEST_\(account.rawValue.uppercased())_PASSWORD"
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw TestSetupError("\(name) is not set: run scripts/servers.sh, which creates the service accounts")
        }
        return value
    }
}

extension TestEnvironment {
    /// Gives every service account its privileges in this test's database (what `crm migrate` grants) and its
    /// permissions on this test's vhost (what `crm accounts` sets).
    public func grantServiceAccounts() async throws {
        let connection = connection(name: "grants")
        do {
            _ = try await connection.transaction { connection in try Schema.grantServiceRoles(on: connection) }
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
        try await grantBrokerPermissions()
    }

    /// Gives every service's broker user its permissions on this test's vhost (what `crm accounts` sets).
    public func grantBrokerPermissions() async throws {
        for account in ServiceAccount.brokerAccounts {
            let permissions = account.brokerPermissions
            let body = try JSONSerialization.data(withJSONObject: [
                "configure": permissions.configure, "write": permissions.write, "read": permissions.read,
            ])
            try await ManagementAPI.request(
                "PUT",
                "/api/permissions/\(virtualHost.name)/\(account.name)",
                body: String(decoding: body, as: UTF8.self)
            )
            for permission in account.topicPermissions {
                let body = try JSONSerialization.data(withJSONObject: permission.body)
                try await ManagementAPI.request(
                    "PUT",
                    "/api/topic-permissions/\(virtualHost.name)/\(account.name)",
                    body: String(decoding: body, as: UTF8.self)
                )
            }
        }
    }

    /// This test's database as the service's own role.
    public func databaseURL(as account: ServiceAccount) throws -> String {
        guard var components = URLComponents(string: database.url) else { throw TestSetupError("bad database URL") }
        components.user = account.name
        components.password = try TestServers.password(of: account)
        guard let url = components.string else { throw TestSetupError("bad database URL") }
        return url
    }

    /// This test's vhost as the service's own broker user.
    public func amqp(as account: ServiceAccount) throws -> AMQPSettings {
        var settings = amqp
        settings.user = account.name
        settings.password = try TestServers.password(of: account)
        return settings
    }

    /// The environment of a service process that runs with its own accounts, as deployed.
    /// The console has no broker user: its environment has no `CRM_AMQP_URL`.
    public func serviceVariables(as account: ServiceAccount) throws -> [String: String] {
        var variables = serviceVariables
        variables["CRM_DATABASE_URL"] = try databaseURL(as: account)
        guard account.usesBroker else {
            variables["CRM_AMQP_URL"] = nil
            return variables
        }
        let broker = try amqp(as: account)
        variables["CRM_AMQP_URL"] =
            "amqp://\(broker.user):\(broker.password)@\(broker.host):\(broker.port)/\(virtualHost.name)"
        return variables
    }
}
