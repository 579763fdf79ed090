import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation
import Logging
import Metrics
import Synchronization

/// Rescores the customers named by `order.accepted` events, a batch at a time, with the newest stored model.
///
/// Idempotent and order-free: a customer is always rescored from all its stored orders, so a repeated or late
/// event only repeats the same result (and a score that did not move publishes nothing). Replicas serialise on
/// per-customer advisory locks, taken in one order, so two replicas never write an older view last.
public final class IncrementalScoring: Sendable {
    private let pool: PostgresPool
    private let outbox: Outbox
    private let settings: ScoringConfiguration
    private let playbook: LifecyclePlaybookSource
    private let logger: Logger
    private let cachedModel = Mutex<ScoringModel?>(nil)
    private let scored = Counter(label: "crm_scoring_customers_scored_total", dimensions: [("mode", "incremental")])
    private let published = Counter(label: "crm_scoring_events_total", dimensions: [("mode", "incremental")])
    private let latency = Timer(label: "crm_scoring_batch_seconds", dimensions: [("mode", "incremental")])

    /// Scoring over `pool`; `settings` apply until the first full rescoring stores a model with its own. Stage changes
    /// are announced on `crm.lifecycle` with the actions of `playbook` (the built-in one when nil).
    public init(
        pool: PostgresPool,
        outbox: Outbox,
        settings: ScoringConfiguration,
        playbook: LifecyclePlaybookSource? = nil,
        logger: Logger
    ) {
        self.pool = pool
        self.outbox = outbox
        self.settings = settings
        self.playbook = playbook ?? LifecyclePlaybookSource(logger: logger)
        self.logger = logger
    }

    /// Handles a batch of `scoring.events` deliveries.
    public func handle(_ batch: [InboundMessage]) async throws -> [MessageDisposition] {
        var dispositions: [MessageDisposition] = []
        var customers = Set<String>()
        for message in batch {
            do throws(MessageRejection) {
                for customer in try OrderAcceptedEvents.customerIDs(in: message.body) {
                    customers.insert(customer.rawValue)
                }
                dispositions.append(.processed)
            } catch {
                dispositions.append(.deadLetter(error))
            }
        }
        guard !customers.isEmpty else { return dispositions }
        let started = ContinuousClock.now
        let count = try await rescore(customers: customers.sorted())
        latency.recordSeconds((ContinuousClock.now - started).seconds)
        scored.increment(by: Int64(customers.count))
        published.increment(by: Int64(count))
        return dispositions
    }

    /// Rescores the named customers as of now and returns the number of `customer.scored` events published.
    ///
    /// Incremental scoring scores the present: its stage changes are announced on `crm.lifecycle` whatever `asOf`
    /// says (only tests and benchmarks pass one, as a clock).
    @discardableResult
    public func rescore(customers: [String], asOf: Date = Date()) async throws -> Int {
        let fallback = settings
        let playbook = playbook.current
        return try await pool.retryingTransaction { connection in
            // One round trip: the customers' locks, in one order, and the planner told that every join of this
            // transaction is a primary-key probe (a batch names a few dozen customers; seeing a staging table without
            // statistics against a small scored base, it would hash-join over all of customer_scores).
            try connection.execute(
                """
                SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true),
                       (SELECT count(pg_advisory_xact_lock(k))
                        FROM (SELECT hashtextextended(id, 0) AS k FROM unnest($1::text[]) AS id ORDER BY 1) AS keys)
                """,
                [customers]
            )
            let model = try self.currentModel(fallback: fallback, asOf: asOf, on: connection)
            let entries = try ScoreStore.read(
                customers: customers,
                asOf: asOf,
                settings: model.settings,
                on: connection
            )
            let scorer = CustomerScorer(model: model)
            var events: [OutboundMessage] = []
            // A customer whose figures are not finite numbers keeps its previous score; the others are scored.
            let scores = try entries.compactMap { entry -> CustomerScore? in
                let score = scorer.score(
                    customerID: entry.customerID,
                    activity: entry.activity,
                    previous: entry.previous,
                    asOf: asOf
                )
                guard score.isWritable else {
                    self.logger.warning(
                        "Customer left unscored: a figure is not a finite number",
                        metadata: ["customer.id": "\(entry.customerID)"]
                    )
                    return nil
                }
                if scorer.isNotable(score, previous: entry.previous),
                    let message = try ScoredEvents.message(for: score, previous: entry.previous)
                {
                    events.append(message)
                }
                return score
            }
            try ScoreStore.createStage(on: connection)
            try ScoreStore.stage(scores, on: connection)
            try ScoreStore.merge(modelID: model.modelID, scoredAt: asOf, unlessUpdatedSince: nil, on: connection)
            let announced = try LifecycleAnnouncements.stageChanges(playbook: playbook, on: connection)
            try ScoredEvents.enqueue(events + announced, into: outbox, on: connection)
            return events.count
        }
    }

    /// The newest stored model, read again only when a newer one exists.
    private func currentModel(
        fallback: ScoringConfiguration,
        asOf: Date,
        on connection: isolated PostgresConnection
    ) throws -> ScoringModel {
        let newest = try connection.query("SELECT max(model_id) FROM scoring_models").first?.decodeIfPresent(
            0,
            as: Int64.self
        )
        if let cached = cachedModel.withLock({ $0 }), cached.modelID == newest { return cached }
        let model = try ModelStore.latest(on: connection) ?? .empty(settings: fallback, asOf: asOf)
        cachedModel.withLock { $0 = model }
        return model
    }
}
