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
    public let databaseURL: String
    public let pool: PostgresPool
    public let logger: Logger
    /// The address and port of health, metrics and the service's own routes (`CRM_HTTP_HOST`, default 127.0.0.1;
    /// `CRM_HTTP_PORT`, default 8080).
    public let httpHost: String
    public let httpPort: Int
    /// The broker's settings and the publisher, unless the service runs without a broker.
    let broker: (settings: AMQPSettings, publisher: AMQPPublisher)?

    /// The broker's settings (`CRM_AMQP_URL`). A service started with ``ServiceHost/Options/broker`` false has none:
    /// asking for them is a programming error.
    public var amqp: AMQPSettings {
        guard let broker else { preconditionFailure("\(name) runs without a broker (ServiceHost.Options.broker)") }
        return broker.settings
    }

    /// A confirmed publisher for the service's own messages and dead letters (see ``amqp`` for a service without a
    /// broker).
    public var publisher: AMQPPublisher {
        guard let broker else { preconditionFailure("\(name) runs without a broker (ServiceHost.Options.broker)") }
        return broker.publisher
    }

    /// Whether the service uses a broker at all.
    public var usesBroker: Bool { broker != nil }

    /// `/health/ready`'s checks: the database answers, and the broker does (nil for a service without one). A
    /// publisher holding a connection answers at once; only one without tries to connect (it then has nothing to
    /// publish that could keep it busy).
    public func readiness() async -> (database: Bool, broker: Bool?) {
        async let database = pool.isReachable()
        guard let publisher = broker?.publisher else { return (await database, nil) }
        if publisher.holdsOpenConnection { return (await database, true) }
        let brokerUp: Bool
        do {
            try await publisher.connect()
            brokerUp = true
        } catch {
            brokerUp = false
        }
        return (await database, brokerUp)
    }

    /// Closes the context's connections.
    public func close() async {
        if let broker { await broker.publisher.close() }
        await pool.close()
    }

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
    /// What a service asks of its host beyond the database, which every service has.
    public struct Options: Sendable {
        /// Whether the service talks to RabbitMQ. Without a broker `CRM_AMQP_URL` is not read, `/health/ready`
        /// checks the database alone, and the context has no publisher.
        public var broker: Bool
        /// Who answers on `CRM_HTTP_PORT`: the host's own small server (health, metrics and ``ServiceParts/routes``),
        /// or the service itself, which then serves `/health/live`, `/health/ready` and `/metrics` on
        /// ``ServiceContext/httpPort`` with ``HealthResponses`` (a web application with its own router).
        public var http: HTTP

        public enum HTTP: Sendable {
            case host
            case service
        }

        public init(broker: Bool = true, http: HTTP = .host) {
            self.broker = broker
            self.http = http
        }

        /// A service of the message pipeline: a broker, and the host's HTTP server.
        public static let standard = Options()
    }

    /// Builds the context from the environment, lets `build` add the service's parts, and runs
    /// them all in one `ServiceGroup` until SIGTERM or SIGINT. Exits 2 on a configuration error. `topology` is what
    /// the service checks exists (`crm migrate` declares it); until it does, the service is not ready and retries.
    public static func run(
        name: String,
        topology: Topology?,
        options: Options = .standard,
        build: @Sendable (ServiceContext) async throws -> ServiceParts
    ) async -> Never {
        let settings = Settings()
        let context: ServiceContext
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
            httpLimits = try httpSettings(settings).limits
            migrateOnStart = try settings.bool("CRM_MIGRATE_ON_START", default: false)
            context = try makeContext(name: name, settings: settings, topology: topology, broker: options.broker)
        } catch {
            FileHandle.standardError.write(Data("\(name): configuration error: \(error)\n".utf8))
            exit(2)
        }
        let logger = context.logger
        logger.info(
            "Starting",
            metadata: [
                "service": "\(name)", "instance": "\(context.instanceID)",
                "amqp.url": "\(context.broker?.settings.redacted ?? "none")",
            ]
        )
        do {
            if migrateOnStart {
                _ = try await context.pool.withConnection { try await Migrator().migrate($0, logger: logger) }
            }
            let parts = try await build(context)
            var hosted: [any Service] = [InstanceHeartbeat(context: context)]
            if options.http == .host {
                let health = HealthResponses(context: context)
                hosted.append(
                    HTTPServer(
                        host: context.httpHost,
                        port: context.httpPort,
                        routes: health.routes + parts.routes,
                        limits: httpLimits,
                        logger: logger
                    )
                )
            }
            if let traceExport { hosted.append(traceExport) }
            let group = ServiceGroup(
                configuration: .init(
                    services: (hosted + parts.services).map {
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
            await context.close()
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

    /// The context from settings, without starting anything; `broker` false leaves `CRM_AMQP_URL` unread.
    public static func makeContext(
        name: String,
        settings: Settings,
        topology: Topology?,
        broker: Bool = true
    ) throws -> ServiceContext {
        let amqp = broker ? try AMQPSettings.from(settings) : nil
        let databaseURL = try settings.databaseURL()
        let poolSize = try settings.int("CRM_DATABASE_POOL_SIZE", default: 4, in: 1...64)
        let host = try httpSettings(settings).host
        let port = try settings.int("CRM_HTTP_PORT", default: 8080, in: 0...65535)
        let instanceID = "\(name)-\(ProcessInfo.processInfo.hostName)-\(getpid())"
        var logger = Logger(label: name)
        logger[metadataKey: "instance"] = "\(instanceID)"
        let pool = PostgresPool(url: databaseURL, size: poolSize, applicationName: name, logger: logger)
        return ServiceContext(
            name: name,
            instanceID: instanceID,
            settings: settings,
            databaseURL: databaseURL,
            pool: pool,
            logger: logger,
            httpHost: host,
            httpPort: port,
            // The service checks its topology, which `crm migrate` declares: its broker user may create nothing.
            broker: amqp.map { amqp in
                let publisher = AMQPPublisher(
                    settings: amqp,
                    name: name,
                    topology: topology,
                    topologyAction: .verify,
                    logger: logger
                )
                return (amqp, publisher)
            }
        )
    }
}

/// The answers of `/health/live`, `/health/ready` (database and, for a service with one, broker reachable) and
/// `/metrics`, for the host's HTTP server or a service that serves them itself.
public struct HealthResponses: Sendable {
    let context: ServiceContext

    public init(context: ServiceContext) {
        self.context = context
    }

    /// `{"status":"live"}`.
    public static let live = "{\"status\":\"live\"}\n"

    /// The readiness body and status: 200 when every check passes, else 503.
    public func ready() async -> (body: String, status: Int) {
        let (database, broker) = await context.readiness()
        let body =
            broker.map { "{\"database\":\(database),\"broker\":\($0)}\n" } ?? "{\"database\":\(database)}\n"
        return (body, database && broker != false ? 200 : 503)
    }

    /// The metrics in Prometheus text format, and their content type.
    public static func metrics() -> (body: String, contentType: String) {
        (Observability.renderMetrics(), "text/plain; version=0.0.4")
    }

    var routes: [HTTPServer.Route] {
        [
            HTTPServer.route("/health/live") { .json(Self.live) },
            HTTPServer.route("/health/ready") { [self] in
                let (body, status) = await ready()
                return .json(body, status: status)
            },
            HTTPServer.route("/metrics") {
                let (body, type) = Self.metrics()
                return HTTPServer.Response(contentType: type, body: body)
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
