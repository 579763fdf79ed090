import CRMAMQP
import CRMOutbox
import CRMRuntime
import CRMSupport
import Foundation

/// The parts of `crm-alerts` that run inside the service host.
public enum AlertsService {
    /// The broker objects this service uses, declared by `crm migrate` and checked at start.
    public static let topology = Topology.alerts

    /// How `alerts.events` and `alerts.feedback` are consumed unless `CRM_ALERTS_*` says otherwise: 200 a batch.
    public static func consumerSettings(_ settings: Settings) throws(SettingsError) -> ConsumerSettings {
        try ConsumerSettings(settings, prefix: "ALERTS", batchSize: 200)
    }

    /// Builds the consumers of `alerts.events` and `alerts.feedback`, the outbox relay of retention alerts and the
    /// scheduler (held-alert release, sweep, gauges, playbook reload). Settings: ``AlertsConfiguration`` and
    /// ``consumerSettings(_:)``.
    public static func parts(_ context: ServiceContext) async throws -> ServiceParts {
        let configuration = try AlertsConfiguration(context.settings)
        let consuming = try consumerSettings(context.settings)
        let playbook =
            try configuration.playbookFile.map { try PlaybookSource(path: $0, logger: context.logger) }
            ?? PlaybookSource(
                playbook: RetentionPlaybook(json: Data(DefaultRetentionPlaybook.json.utf8)),
                logger: context.logger
            )
        let relay = context.outboxRelay(for: .alerts)
        let outbox = Outbox(relay: relay)
        let evaluator = AlertEvaluator(configuration: configuration, playbook: playbook, outbox: outbox)
        let events = AlertEventsHandler(evaluator: evaluator, pool: context.pool)
        let feedback = AlertFeedbackHandler(pool: context.pool)
        let consumers =
            context.consumers(
                of: Topology.alertEventsQueue,
                topology: topology,
                settings: consuming,
                publishers: context.internalEventPublishers,
                handler: events.handle
            )
            + context.consumers(
                of: Topology.feedbackQueue,
                topology: topology,
                settings: consuming,
                handler: feedback.handle
            )
        let sweep = AlertSweep(evaluator: evaluator, pool: context.pool, instanceID: context.instanceID)
        let scheduler = AlertScheduler(
            configuration: configuration,
            pool: context.pool,
            outbox: outbox,
            playbook: playbook,
            sweep: sweep,
            outcomes: OutcomeSchedule(tracker: evaluator.outcomes, pool: context.pool, instanceID: context.instanceID),
            logger: context.logger
        )
        return ServiceParts(services: consumers + [relay, scheduler])
    }
}
