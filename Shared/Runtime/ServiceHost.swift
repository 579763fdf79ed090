import CRMAMQP
import CRMOutbox
import CRMPostgres
import CRMSchema
import CRMSupport
import Foundation
import Logging
import ServiceLifecycle

/// What every service process is given: its settings and its connections.
public struct ServiceContext: Sendable {
    /// The executable's name, e.g. `crm-intake`.
    public let name: String
    /// Identifies this replica in logs and in `crm_instances`.
    public let instanceID: String
    public let settings: Settings
    public let amqp: AMQPSettings
    public let databaseURL: String
    public let pool: PostgresPool
    /// A confirmed publisher for the service's own messages and dead letters.
    public let publisher: AMQPPublisher
    public let logger: Logger

    /// Who may publish the internal events a service consumes: the owner of each event (`order.accepted` from
    /// `crm_intake`, ...), or this process's own broker account. Give it to ``consumers(of:topology:settings:publishers:handler:)``
    /// of a queue bound to `crm.events`.
    public var internalEventPublishers: PublisherCheck {
        var owners: [String: String] = [:]
        for account in ServiceAccount.allCases {
            for event in account.events { owners[event] = account.name }
        }
        return PublisherCheck(owners: owners, ownUser: amqp.user)
    }

    /// The relay of `account`'s outbox rows over the context's pool and publisher; add it to the service's parts and
    /// give `Outbox(relay:)` to the writers of events.
    public func outboxRelay(for account: ServiceAccount) -> OutboxRelay {
        OutboxRelay(source: account.outboxSource, pool: pool, publisher: publisher, logger: logger)
    }
}

extension Outbox {
    /// The outbox of `account`'s rows, written by a process that runs no relay of them (`crm` commands, tests): a
    /// relay of the service publishes them at its next poll.
    public init(of account: ServiceAccount) {
        self.init(source: account.outboxSource)
    }
}

/// The long-running parts a service adds to the host, and any extra HTTP routes.
public struct ServiceParts: Sendable {
    public var services: [any Service]
    public var routes: [HTTPServer.Route]

    public init(services: [any Service], routes: [HTTPServer.Route] = []) {
        self.services = services
        self.routes = routes
    }
}

/// Runs a service process: settings, logs, metrics, connections, HTTP health, signals.
public enum ServiceHost {
    /// Builds the context from the environment, lets `build` add the service's parts, and runs
    /// them all in one `ServiceGroup` until SIGTERM or SIGINT. Exits 2 on a configuration error. `topology` is what
    /// the service checks exists (`crm migrate` declares it); until it does, the service is not ready and retries.
    public static func run(
        name: String,
        topology: Topology,
        build: @Sendable (ServiceContext) async throws -> ServiceParts
    ) async -> Never {
        let settings = Settings()
        let context: ServiceContext
        let port: Int
        let httpHost: String
        let httpLimits: HTTPServer.Limits
        let migrateOnStart: Bool
        let traceExport: (any Service)?
        do {
            let level = try settings.choice("CRM_LOG_LEVEL", default: Logger.Level.info)
            // An exporter's tracer, when OTEL_EXPORTER_OTLP_ENDPOINT asks for one, else the propagating tracer.
            var export: (any Service)?
            try Observability.bootstrap(logLevel: level) {
                var diagnostics = Logger(label: "\(name).otel")
                diagnostics.logLevel = .warning
                export = try TraceExport.start(service: name, settings: settings, logger: diagnostics)
            }
            traceExport = export
            Observability.recordBuildInfo(service: name)
            port = try settings.int("CRM_HTTP_PORT", default: 8080, in: 0...65535)
            (httpHost, httpLimits) = try httpSettings(settings)
            migrateOnStart = try settings.bool("CRM_MIGRATE_ON_START", default: false)
            context = try makeContext(name: name, settings: settings, topology: topology)
        } catch {
            FileHandle.standardError.write(Data("\(name): configuration error: \(error)\n".utf8))
            exit(2)
        }
        let logger = context.logger
        logger.info(
            "Starting",
            metadata: [
                "service": "\(name)", "instance": "\(context.instanceID)", "amqp.url": "\(context.amqp.redacted)",
            ]
        )
        do {
            if migrateOnStart {
                _ = try await context.pool.withConnection { try await Migrator().migrate($0, logger: logger) }
            }
            let parts = try await build(context)
            let health = HealthRoutes(pool: context.pool, publisher: context.publisher)
            let http = HTTPServer(
                host: httpHost,
                port: port,
                routes: health.routes + parts.routes,
                limits: httpLimits,
                logger: logger
            )
            let heartbeat = InstanceHeartbeat(context: context)
            let group = ServiceGroup(
                configuration: .init(
                    services: ([http, heartbeat] + parts.services + (traceExport.map { [$0] } ?? [])).map {
                        .init(
                            service: $0,
                            successTerminationBehavior: .gracefullyShutdownGroup,
                            failureTerminationBehavior: .gracefullyShutdownGroup
                        )
                    },
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger
                )
            )
            try await group.run()
            await context.publisher.close()
            await context.pool.close()
            logger.info("Stopped", metadata: ["service": "\(name)"])
            exit(0)
        } catch let error as SettingsError {
            // A service's own settings are read while it builds its parts: still a configuration error.
            logger.critical("Configuration error", metadata: ["service": "\(name)", "error": "\(error)"])
            FileHandle.standardError.write(Data("\(name): configuration error: \(error)\n".utf8))
            exit(2)
        } catch {
            logger.critical("Service failed", metadata: ["service": "\(name)", "error": "\(error)"])
            exit(1)
        }
    }

    /// `CRM_HTTP_HOST` (default `127.0.0.1`: loopback only; the image sets `0.0.0.0`), `CRM_HTTP_IDLE_TIMEOUT`
    /// (default 5s), `CRM_HTTP_HEADER_TIMEOUT` (default 10s) and `CRM_HTTP_MAX_CONNECTIONS` (default 64).
    public static func httpSettings(
        _ settings: Settings
    ) throws(SettingsError) -> (host: String, limits: HTTPServer.Limits) {
        let host = settings.string("CRM_HTTP_HOST", default: "127.0.0.1")
        guard !host.isEmpty, host.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "/") }) else {
            throw SettingsError(
                variable: "CRM_HTTP_HOST",
                problem: "expected an address such as 127.0.0.1, 0.0.0.0 or ::"
            )
        }
        let defaults = HTTPServer.Limits()
        let limits = HTTPServer.Limits(
            idleTimeout: try settings.duration("CRM_HTTP_IDLE_TIMEOUT", default: defaults.idleTimeout),
            headerTimeout: try settings.duration("CRM_HTTP_HEADER_TIMEOUT", default: defaults.headerTimeout),
            stalledResponse: defaults.stalledResponse,
            maximumConnections: try settings.int(
                "CRM_HTTP_MAX_CONNECTIONS",
                default: defaults.maximumConnections,
                in: 1...10_000
            )
        )
        return (host, limits)
    }

    /// The context from settings, without starting anything.
    public static func makeContext(name: String, settings: Settings, topology: Topology?) throws -> ServiceContext {
        let amqp = try AMQPSettings.from(settings)
        let databaseURL = try settings.databaseURL()
        let poolSize = try settings.int("CRM_DATABASE_POOL_SIZE", default: 4, in: 1...64)
        let instanceID = "\(name)-\(ProcessInfo.processInfo.hostName)-\(getpid())"
        var logger = Logger(label: name)
        logger[metadataKey: "instance"] = "\(instanceID)"
        let pool = PostgresPool(url: databaseURL, size: poolSize, applicationName: name, logger: logger)
        // The service checks its topology, which `crm migrate` declares: its broker user may create nothing.
        let publisher = AMQPPublisher(
            settings: amqp,
            name: name,
            topology: topology,
            topologyAction: .verify,
            logger: logger
        )
        return ServiceContext(
            name: name,
            instanceID: instanceID,
            settings: settings,
            amqp: amqp,
            databaseURL: databaseURL,
            pool: pool,
            publisher: publisher,
            logger: logger
        )
    }
}

/// `/health/live`, `/health/ready` (database and broker reachable) and `/metrics`.
struct HealthRoutes: Sendable {
    let pool: PostgresPool
    let publisher: AMQPPublisher

    var routes: [HTTPServer.Route] {
        [
            HTTPServer.route("/health/live") { .json("{\"status\":\"live\"}\n") },
            HTTPServer.route("/health/ready") { [pool, publisher] in
                async let database = pool.isReachable()
                // A publisher holding a connection answers at once; only one without tries to connect (it then has
                // nothing to publish that could keep it busy).
                async let broker: Bool = {
                    if publisher.holdsOpenConnection { return true }
                    do {
                        try await publisher.connect()
                        return true
                    } catch {
                        return false
                    }
                }()
                let (databaseUp, brokerUp) = await (database, broker)
                let body = "{\"database\":\(databaseUp),\"broker\":\(brokerUp)}\n"
                return .json(body, status: databaseUp && brokerUp ? 200 : 503)
            },
            HTTPServer.route("/metrics") {
                HTTPServer.Response(contentType: "text/plain; version=0.0.4", body: Observability.renderMetrics())
            },
        ]
    }
}

/// Records this replica in `crm_instances` every 15 seconds, so `crm status` can list replicas.
struct InstanceHeartbeat: Service {
    let context: ServiceContext

    func run() async throws {
        let started = Date()
        while !Task.isShuttingDownGracefully {
            do {
                try await context.pool.execute(
                    """
                    INSERT INTO crm_instances (instance_id, service, host, version, started_at, last_seen_at)
                    VALUES ($1, $2, $3, $4, $5, now())
                    ON CONFLICT (instance_id) DO UPDATE SET last_seen_at = now()
                    """,
                    [context.instanceID, context.name, ProcessInfo.processInfo.hostName, CRMVersion.current, started]
                )
            } catch {
                context.logger.warning("Instance heartbeat failed", metadata: ["error": "\(error)"])
            }
            try? await gracefulSleep(.seconds(15))
        }
        _ = try? await context.pool.execute("DELETE FROM crm_instances WHERE instance_id = $1", [context.instanceID])
    }
}

/// The product version reported by every executable.
public enum CRMVersion {
    public static let current = "0.1.0"
}
