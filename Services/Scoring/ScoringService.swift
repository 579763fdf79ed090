import Foundation
import Shared

/// The parts of `crm-scoring` that run inside the service host.
public enum ScoringService {
    /// The broker objects this service declares and touches.
    public static let topology = Topology.scoring

    /// Builds the consumer of `scoring.events` (incremental scoring), the full-rescoring schedule, the outbox
    /// relay of `customer.scored` events and the `GET /customers/{id}` route.
    ///
    /// Settings: `CRM_SCORING_BATCH_SIZE` (default 200 events), `CRM_SCORING_RESCORE_INTERVAL` (default 24h),
    /// and the model and rule settings of ``ScoringSettings``.
    public static func parts(_ context: ServiceContext) async throws -> ServiceParts {
        let settings = try ScoringSettings(context.settings)
        let batchSize = try context.settings.int("CRM_SCORING_BATCH_SIZE", default: 200, in: 1...5000)
        let interval = try context.settings.duration("CRM_SCORING_RESCORE_INTERVAL", default: .seconds(86_400))
        let incremental = IncrementalScoring(pool: context.pool, settings: settings, logger: context.logger)
        let relay = OutboxRelay(
            source: ScoredEvents.outboxSource, pool: context.pool, publisher: context.publisher, logger: context.logger)
        let consumer = QueueConsumer(
            queue: Topology.scoringEventsQueue,
            consumer: AMQPConsumer(
                settings: context.amqp, queue: Topology.scoringEventsQueue, prefetch: UInt16(batchSize * 2),
                topology: topology, logger: context.logger),
            deadLetters: context.publisher, options: .init(batchSize: batchSize), logger: context.logger,
            handler: incremental.handle)
        let schedule = RescoreSchedule(
            rescoring: FullRescoring(
                pool: context.pool, settings: settings,
                workMemory: context.settings.string("CRM_SCORING_WORK_MEM", default: "512MB"), logger: context.logger),
            interval: interval, logger: context.logger)
        return ServiceParts(services: [consumer, relay, schedule], routes: [customerRoute(pool: context.pool)])
    }

    /// `GET /customers/{id}`: the customer object, 404 when never scored.
    static func customerRoute(pool: PostgresPool) -> HTTPServer.Route {
        { request in
            let prefix = "/customers/"
            guard request.path.hasPrefix(prefix), request.path.count > prefix.count else { return nil }
            let id = String(request.path.dropFirst(prefix.count))
            do {
                guard let json = try await CustomerView.json(customerID: id, pool: pool) else {
                    return .json(#"{"error":"no such customer"}"#, status: 404)
                }
                return .json(json)
            } catch {
                return .json(#"{"error":"the database is unavailable"}"#, status: 503)
            }
        }
    }
}
