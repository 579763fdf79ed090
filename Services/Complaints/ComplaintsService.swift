import CRMAMQP
import CRMOutbox
import CRMRuntime
import CRMSupport
import Logging
import ServiceLifecycle

/// The parts of `crm-complaints` that run inside the service host.
public enum ComplaintsService {
    /// The broker objects the service checks before the rules are known: the inbox, `desk.escalations` and the
    /// exchanges it publishes to. The desks' queues follow from the rules (`ComplaintRulesWatcher`); `crm migrate` and
    /// `crm rules load` declare them.
    public static let topology = topology(desks: [])

    /// The service's topology with a `desk.<name>` queue for each desk: `Topology.complaints(desks:)`, which
    /// `ServiceAccount.complaints` derives the broker user's permissions from.
    public static func topology(desks: [String]) -> Topology {
        Topology.complaints(desks: desks)
    }

    /// How `complaints.inbox` is consumed unless `CRM_COMPLAINTS_*` says otherwise: batches of 100 that wait at most
    /// 2 ms to fill, two consumers per process.
    public static func consumerSettings(_ settings: Settings) throws(SettingsError) -> ConsumerSettings {
        try ConsumerSettings(settings, prefix: "COMPLAINTS", batchSize: 100, consumers: 2, linger: .milliseconds(2))
    }

    /// Loads the rules (seeding an empty database from the default file) and builds the consumers of
    /// `complaints.inbox`, the outbox relay, the SLA sweeper and the rules watcher.
    ///
    /// Settings: ``ComplaintsConfiguration`` (`CRM_COMPLAINTS_*`, `CRM_COMPLAINT_RULES_FILE`) and
    /// ``consumerSettings(_:)``.
    public static func parts(_ context: ServiceContext) async throws -> ServiceParts {
        let configuration = try ComplaintsConfiguration(settings: context.settings)
        let consuming = try consumerSettings(context.settings)
        let policies = try await ComplaintPolicyHolder.load(pool: context.pool, configuration: configuration)
        let relay = context.outboxRelay(for: .complaints)
        let outbox = Outbox(relay: relay)
        let handler = ComplaintInboxHandler(
            pool: context.pool,
            outbox: outbox,
            policies: policies,
            configuration: configuration,
            logger: context.logger
        )
        // Each consumer checks the desks' queues exist when it connects, before it takes a message to route.
        let consumers = context.consumers(
            of: Topology.complaintsQueue,
            topology: topology(desks: policies.current.policy.router.desks.map(\.name)),
            settings: consuming,
            handler: handler.handle
        )
        let sweeper = SLASweeper(
            pool: context.pool,
            outbox: outbox,
            policies: policies,
            interval: configuration.sweepInterval,
            batchSize: configuration.sweepBatch,
            logger: context.logger
        )
        let watcher = ComplaintRulesWatcher(
            holder: policies,
            pool: context.pool,
            amqp: context.amqp,
            configuration: configuration,
            logger: context.logger
        )
        return ServiceParts(services: consumers + [relay, sweeper, watcher])
    }
}
