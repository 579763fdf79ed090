import CRMAMQP
import CRMOutbox
import CRMRuntime
import CRMSupport
import Foundation

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

    /// Builds the consumers of `intake.orders` and `intake.customers`, the outbox relay of `order.accepted` events and the sweep of held
    /// refunds.
    ///
    /// Settings: `CRM_BASE_CURRENCY` (default USD), `CRM_INTAKE_MAXIMUM_AMOUNT` (default a billion in the base
    /// currency), `CRM_INTAKE_HELD_REFUNDS_INTERVAL` (default 1m) and ``consumerSettings(_:)``.
    public static func parts(_ context: ServiceContext) async throws -> ServiceParts {
        let baseCurrency = context.settings.string("CRM_BASE_CURRENCY", default: "USD").uppercased()
        let maximumAmount = try context.settings.int(
            "CRM_INTAKE_MAXIMUM_AMOUNT",
            default: OrderIntakeHandler.defaultMaximumAmount,
            in: 1...100_000_000_000_000
        )
        let heldInterval = try context.settings.duration("CRM_INTAKE_HELD_REFUNDS_INTERVAL", default: .seconds(60))
        let relay = context.outboxRelay(for: .intake)
        let outbox = Outbox(relay: relay)
        let handler = OrderIntakeHandler(
            pool: context.pool,
            outbox: outbox,
            baseCurrency: baseCurrency,
            maximumAmount: Decimal(maximumAmount)
        )
        let consumers = context.consumers(
            of: Topology.intakeQueue,
            topology: topology,
            settings: try consumerSettings(context.settings),
            handler: handler.staged
        )
        // Registrations are few and small: one consumer with the default batch, apart from the orders' settings.
        let registrations = context.consumers(
            of: Topology.intakeCustomersQueue,
            topology: topology,
            settings: try ConsumerSettings(context.settings, prefix: "INTAKE_CUSTOMERS", batchSize: 200, consumers: 1),
            handler: CustomerIntakeHandler(pool: context.pool, outbox: outbox).handle
        )
        let sweep = HeldRefundSweep(pool: context.pool, outbox: outbox, interval: heldInterval, logger: context.logger)
        return ServiceParts(services: consumers + registrations + [relay, sweep])
    }
}
