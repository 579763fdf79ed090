import Shared

/// The parts of `crm-intake` that run inside the service host.
public enum IntakeService {
    /// The broker objects this service declares and touches.
    public static let topology = Topology.intake
    /// Rows of `crm_outbox` that this service's relay publishes.
    public static let outboxSource = "intake"

    /// Most orders in one batch (`CRM_INTAKE_BATCH_SIZE`). A batch is what has arrived, so under a light load batches
    /// stay small; under a backlog, large batches cost PostgreSQL and the broker least per order (measured on the
    /// CDNOW master: 15,700 orders/s with two consumers of 250, 18,400 with one of 1,000, 19,800 with one of 2,000).
    public static let defaultBatchSize = 2000
    /// Consumers per process (`CRM_INTAKE_CONSUMERS`). One consumer already decodes its next batch while the previous
    /// one commits; a second adds concurrent inserts into the same indexes, which cost PostgreSQL more than they gain
    /// on two cores.
    public static let defaultConsumers = 1

    /// Builds the consumer of `intake.orders` and the outbox relay.
    ///
    /// Settings: `CRM_BASE_CURRENCY` (default USD), `CRM_INTAKE_BATCH_SIZE` (default 2000),
    /// `CRM_INTAKE_PREFETCH` (default twice the batch size), `CRM_INTAKE_CONSUMERS` (default 1).
    public static func parts(_ context: ServiceContext) async throws -> ServiceParts {
        let settings = context.settings
        let baseCurrency = settings.string("CRM_BASE_CURRENCY", default: "USD").uppercased()
        let batchSize = try settings.int("CRM_INTAKE_BATCH_SIZE", default: defaultBatchSize, in: 1...5000)
        let prefetch = try settings.int("CRM_INTAKE_PREFETCH", default: batchSize * 2, in: 1...65535)
        let concurrency = try settings.int("CRM_INTAKE_CONSUMERS", default: defaultConsumers, in: 1...16)
        let handler = OrderIntakeHandler(pool: context.pool, baseCurrency: baseCurrency)
        let relay = OutboxRelay(
            source: outboxSource, pool: context.pool, publisher: context.publisher, logger: context.logger)
        // Each consumer decodes its next batch while the previous one commits.
        let consumers = (0..<concurrency).map { _ in
            QueueConsumer(
                queue: Topology.intakeQueue,
                consumer: AMQPConsumer(
                    settings: context.amqp, queue: Topology.intakeQueue, prefetch: UInt16(prefetch), topology: topology,
                    logger: context.logger),
                deadLetters: context.publisher, options: .init(batchSize: batchSize), logger: context.logger,
                handler: handler.staged)
        }
        return ServiceParts(services: consumers + [relay])
    }
}
