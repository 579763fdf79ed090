import Shared

/// The parts of `crm-alerts` that run inside the service host.
public enum AlertsService {
    /// The broker objects this service declares and touches.
    public static let topology = Topology.alerts
    /// Rows of `crm_outbox` that this service's relay publishes.
    public static let outboxSource = AlertEvaluator.outboxSource

    /// Builds the consumers of `alerts.events` and `alerts.feedback`, the outbox relay of retention alerts and the
    /// scheduler (held-alert release, sweep, gauges, playbook reload). Settings: see ``AlertsConfiguration``.
    public static func parts(_ context: ServiceContext) async throws -> ServiceParts {
        let configuration = try AlertsConfiguration(context.settings)
        let playbook = try PlaybookSource(path: configuration.playbookFile, logger: context.logger)
        return parts(context, configuration: configuration, playbook: playbook)
    }

    /// The parts with settings and playbook given, for tests and benchmarks.
    public static func parts(
        _ context: ServiceContext, configuration: AlertsConfiguration, playbook: PlaybookSource
    ) -> ServiceParts {
        let evaluator = AlertEvaluator(configuration: configuration, playbook: playbook)
        let relay = OutboxRelay(
            source: outboxSource, pool: context.pool, publisher: context.publisher, logger: context.logger)
        let events = AlertEventsHandler(evaluator: evaluator, pool: context.pool)
        let feedback = AlertFeedbackHandler(pool: context.pool)
        func consumer(_ queue: String, _ handle: @escaping QueueConsumer.Handler) -> QueueConsumer {
            QueueConsumer(
                queue: queue,
                consumer: AMQPConsumer(
                    settings: context.amqp, queue: queue, prefetch: UInt16(configuration.batchSize * 2),
                    topology: topology, logger: context.logger),
                deadLetters: context.publisher, options: .init(batchSize: configuration.batchSize),
                logger: context.logger, handler: handle)
        }
        let eventsConsumer = consumer(Topology.alertEventsQueue, events.handle)
        let feedbackConsumer = consumer(Topology.feedbackQueue, feedback.handle)
        let sweep = AlertSweep(evaluator: evaluator, pool: context.pool, instanceID: context.instanceID)
        let scheduler = AlertScheduler(
            configuration: configuration, pool: context.pool, playbook: playbook, sweep: sweep,
            logger: context.logger)
        return ServiceParts(services: [eventsConsumer, feedbackConsumer, relay, scheduler])
    }
}
