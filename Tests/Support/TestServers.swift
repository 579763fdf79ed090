import CRMAMQP
import CRMPostgres
import CRMSchema
import CRMSupport
import Foundation
import Logging

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real PostgreSQL and RabbitMQ the tests run against, found through `CRM_TEST_*` variables
/// (written to `.local/env` by `scripts/servers.sh`). A missing server fails the test; nothing skips.
public enum TestServers {
    /// Administrator URL of the test PostgreSQL (`CRM_TEST_DATABASE_URL`).
    public static var databaseAdminURL: String {
        get throws { try variable("CRM_TEST_DATABASE_URL") }
    }

    /// Administrator URL of the test RabbitMQ (`CRM_TEST_AMQP_URL`).
    public static var amqpAdminURL: String {
        get throws { try variable("CRM_TEST_AMQP_URL") }
    }

    /// The RabbitMQ management API (`CRM_TEST_RABBITMQ_API`, default http://127.0.0.1:15672).
    public static var managementAPI: String {
        ProcessInfo.processInfo.environment["CRM_TEST_RABBITMQ_API"] ?? "http://127.0.0.1:15672"
    }

    /// A logger that stays quiet unless `CRM_TEST_LOG_LEVEL` asks for more.
    public static var logger: Logger {
        var logger = Logger(label: "test")
        let level = ProcessInfo.processInfo.environment["CRM_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        logger.logLevel = level ?? .critical
        return logger
    }

    private static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw TestSetupError("\(name) is not set: run the tests with scripts/test.sh, which starts the servers")
        }
        return value
    }

    /// A fresh database and a fresh virtual host for one test, removed afterwards; with `keep`, the database stays
    /// when `body` succeeds (a benchmark's base, to be measured against again), and is the caller's to drop.
    public static func withEnvironment<T>(
        migrate: Bool = true,
        keep: Bool = false,
        _ body: (TestEnvironment) async throws -> T
    ) async throws -> T {
        // Trace contexts travel as in a service process (the propagating tracer; a no-op once installed).
        MessageTracing.bootstrap()
        let suffix = UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        let name = "crm_test_\(suffix)"
        let database = try await TestDatabase.create(name: name)
        let vhost = try await TestVirtualHost.create(name: name)
        let environment = try TestEnvironment(database: database, virtualHost: vhost)
        if migrate {
            let connection = environment.connection(name: "migrate")
            _ = try await Migrator().migrate(connection, logger: logger)
            await connection.close()
        }
        do {
            let result = try await body(environment)
            await environment.pool.close()
            try? await vhost.delete()
            // Kept (a benchmark's loaded base, to measure against again): the caller said where it is.
            if !keep { try? await database.drop() }
            return result
        } catch {
            await environment.pool.close()
            try? await vhost.delete()
            try? await database.drop()
            throw error
        }
    }
}

/// One test's servers: its own database and its own virtual host.
public struct TestEnvironment: Sendable {
    public let database: TestDatabase
    public let virtualHost: TestVirtualHost
    public let amqp: AMQPSettings
    public let pool: PostgresPool

    init(database: TestDatabase, virtualHost: TestVirtualHost) throws {
        self.database = database
        self.virtualHost = virtualHost
        var amqp = try AMQPSettings(url: TestServers.amqpAdminURL)
        amqp.virtualHost = virtualHost.name
        amqp.reconnectMaxDelay = .seconds(2)
        self.amqp = amqp
        pool = PostgresPool(url: database.url, size: 4, applicationName: "test", logger: TestServers.logger)
    }

    /// A connection of its own (outside the pool).
    public func connection(name: String) -> PostgresConnection {
        PostgresConnection(url: database.url, applicationName: name, logger: TestServers.logger)
    }

    /// The environment variables a service process of this environment needs.
    public var serviceVariables: [String: String] {
        var amqpURL = (try? TestServers.amqpAdminURL) ?? ""
        if let range = amqpURL.range(of: "/", options: .backwards) {
            amqpURL = String(amqpURL[..<range.upperBound]) + virtualHost.name
        }
        return ["CRM_DATABASE_URL": database.url, "CRM_AMQP_URL": amqpURL, "CRM_LOG_LEVEL": "warning"]
    }
}

/// A database created for one test.
public struct TestDatabase: Sendable {
    public let name: String
    public let url: String

    static func create(name: String) async throws -> TestDatabase {
        let admin = PostgresConnection(
            url: try TestServers.databaseAdminURL,
            applicationName: "test-admin",
            logger: TestServers.logger
        )
        // Identifiers cannot be parameters; the name is generated here, never taken from input.
        try await admin.execute("CREATE DATABASE \(name)")
        await admin.close()
        var components = URLComponents(string: try TestServers.databaseAdminURL)!
        components.path = "/\(name)"
        return TestDatabase(name: name, url: components.string!)
    }

    func drop() async throws {
        let admin = PostgresConnection(
            url: try TestServers.databaseAdminURL,
            applicationName: "test-admin",
            logger: TestServers.logger
        )
        try await admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        await admin.close()
    }
}

/// A RabbitMQ virtual host created for one test through the management API.
public struct TestVirtualHost: Sendable {
    public let name: String

    static func create(name: String) async throws -> TestVirtualHost {
        try await ManagementAPI.request("PUT", "/api/vhosts/\(name)")
        let user = try AMQPSettings(url: TestServers.amqpAdminURL).user
        try await ManagementAPI.request(
            "PUT",
            "/api/permissions/\(name)/\(user)",
            body: #"{"configure":".*","write":".*","read":".*"}"#
        )
        return TestVirtualHost(name: name)
    }

    func delete() async throws {
        try await ManagementAPI.request("DELETE", "/api/vhosts/\(name)")
    }
}

/// Calls to the RabbitMQ management HTTP API with the test administrator's credentials.
public enum ManagementAPI {
    @discardableResult
    public static func request(_ method: String, _ path: String, body: String? = nil) async throws -> Data {
        let settings = try AMQPSettings(url: TestServers.amqpAdminURL)
        guard let url = URL(string: TestServers.managementAPI + path) else { throw TestSetupError("bad URL \(path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        let credentials = Data("\(settings.user):\(settings.password)".utf8).base64EncodedString()
        request.setValue("Basic \(credentials)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let body { request.httpBody = Data(body.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw TestSetupError("RabbitMQ management API \(method) \(path) answered \(status)")
        }
        return data
    }
}

/// The test servers could not be prepared.
public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
