import Logging
import ServiceLifecycle
import Shared

/// The parts of `crm-complaints` that run inside the service host.
public enum ComplaintsService {
    /// Rows of `crm_outbox` that this service's relay publishes.
    public static let outboxSource = "complaints"

    /// The broker objects declared before the rules are known: the inbox, `desk.escalations`, and the binding that
    /// takes complaint signals to `alerts.events` (so a signal is never unroutable while `crm-alerts` is not yet
    /// deployed). The desks' queues follow from the rules (`ComplaintRulesWatcher`).
    public static let topology = topology(desks: [])

    /// The service's topology with a `desk.<name>` queue for each desk: `Topology.complaints(desks:)`, which
    /// `ServiceAccount.complaints` derives the broker user's permissions from.
    public static func topology(desks: [String]) -> Topology {
        Topology.complaints(desks: desks)
    }

    /// Builds the consumers of `complaints.inbox`, the outbox relay, the SLA sweeper and the rules watcher.
    ///
    /// Settings: see `ComplaintsConfiguration` (`CRM_COMPLAINTS_*`, `CRM_COMPLAINT_RULES_FILE`).
    public static func parts(_ context: ServiceContext) async throws -> ServiceParts {
        let configuration = try ComplaintsConfiguration(settings: context.settings)
        let runtime = try await ComplaintsRuntime.make(
            configuration: configuration, pool: context.pool, publisher: context.publisher, amqp: context.amqp,
            logger: context.logger)
        return ServiceParts(services: runtime.services)
    }
}

/// Everything one `crm-complaints` process runs, built from its configuration; tests and the benchmark run the
/// same parts in-process.
public struct ComplaintsRuntime: Sendable {
    /// The rules in force.
    public let policies: ComplaintPolicyHolder
    /// Decides and stores what arrives on `complaints.inbox`.
    public let handler: ComplaintInboxHandler
    /// Publishes routed complaints, warnings, escalations and signals from the outbox.
    public let relay: OutboxRelay
    /// Warns before and escalates at SLA breaches.
    public let sweeper: SLASweeper
    /// Picks up new rules and declares desk queues.
    public let watcher: ComplaintRulesWatcher
    /// The consumers of `complaints.inbox`.
    public let consumers: [QueueConsumer]

    /// Every long-running part, for one `ServiceGroup`.
    public var services: [any Service] { consumers + [relay, sweeper, watcher] }

    /// Loads the rules (seeding an empty database from the default file) and builds the parts.
    public static func make(
        configuration: ComplaintsConfiguration, pool: PostgresPool, publisher: AMQPPublisher, amqp: AMQPSettings,
        logger: Logger
    ) async throws -> ComplaintsRuntime {
        let policies = try await ComplaintPolicyHolder.load(pool: pool, configuration: configuration)
        let relay = OutboxRelay(
            source: ComplaintsService.outboxSource, pool: pool, publisher: publisher, logger: logger)
        let handler = ComplaintInboxHandler(
            pool: pool, policies: policies, configuration: configuration, logger: logger)
        // Each consumer declares the desks' queues when it connects, before it takes a message to route.
        let topology = ComplaintsService.topology(desks: policies.current.policy.router.desks.map(\.name))
        let consumers = (0..<configuration.consumers).map { _ in
            QueueConsumer(
                queue: Topology.complaintsQueue,
                consumer: AMQPConsumer(
                    settings: amqp, queue: Topology.complaintsQueue, prefetch: UInt16(configuration.prefetch),
                    topology: topology, logger: logger),
                deadLetters: publisher,
                options: .init(batchSize: configuration.batchSize, linger: configuration.linger),
                logger: logger, handler: handler.handle)
        }
        let sweeper = SLASweeper(
            pool: pool, policies: policies, interval: configuration.sweepInterval, batchSize: configuration.sweepBatch,
            logger: logger)
        let watcher = ComplaintRulesWatcher(
            holder: policies, pool: pool, amqp: amqp, configuration: configuration, logger: logger)
        return ComplaintsRuntime(
            policies: policies, handler: handler, relay: relay, sweeper: sweeper, watcher: watcher, consumers: consumers)
    }
}
