import CRMAMQP
import CRMOutbox
import CRMRuntime
import CRMSupport

/// The parts of `crm-intake` that run inside the service host.
public enum IntakeService {
    /// The broker objects this service uses, declared by `crm migrate` and checked at start.
    public static let topology = Topology.intake

    /// How `intake.orders` is consumed unless `CRM_INTAKE_*` says otherwise. A batch is what has arrived, so under a
    /// light load batches stay small; under a backlog, large batches cost PostgreSQL and the broker least per order
    /// (BENCHMARKS.md, intake batch sizes). One consumer already decodes its next batch while the previous one
    /// commits; a second adds concurrent inserts into the same indexes, which cost PostgreSQL more than they gain.
    public static func consumerSettings(_ settings: Settings) throws(SettingsError) -> ConsumerSettings {
        try ConsumerSettings(settings, prefix: "INTAKE", batchSize: 2000, consumers: 1)
    }

    /// Builds the consumers of `intake.orders` and the outbox relay of `order.accepted` events.
    ///
    /// Settings: `CRM_BASE_CURRENCY` (default USD) and ``consumerSettings(_:)``.
    public static func parts(_ context: ServiceContext) async throws -> ServiceParts {
        let baseCurrency = context.settings.string("CRM_BASE_CURRENCY", default: "USD").uppercased()
        let relay = context.outboxRelay(for: .intake)
        let handler = OrderIntakeHandler(pool: context.pool, outbox: Outbox(relay: relay), baseCurrency: baseCurrency)
        let consumers = context.consumers(
            of: Topology.intakeQueue,
            topology: topology,
            settings: try consumerSettings(context.settings),
            handler: handler.staged
        )
        return ServiceParts(services: consumers + [relay])
    }
}
