import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Settles held refunds whose purchase is stored, and reports how many are held and for how long.
///
/// A purchase settles its held refunds in its own batch. A refund stored held by another replica in the same moment,
/// before the purchase committed, is not seen there: this sweep, every `CRM_INTAKE_HELD_REFUNDS_INTERVAL` (default
/// 1m), settles it (released, or dead-lettered with its reason) with the purchase's row locked as the writer locks
/// it. It also sets the gauges `crm_intake_held_refunds` and `crm_intake_held_refund_age_seconds` (the oldest).
public struct HeldRefundSweep: Service {
    private let pool: PostgresPool
    private let outbox: Outbox
    private let interval: Duration
    private let logger: Logger
    private let held = Gauge(label: "crm_intake_held_refunds")
    private let oldest = Gauge(label: "crm_intake_held_refund_age_seconds")
    private let refused = Counter(label: "crm_intake_held_refunds_refused_total")

    /// The most purchases one sweep transaction settles.
    static let batchSize = 500

    public init(pool: PostgresPool, outbox: Outbox, interval: Duration, logger: Logger) {
        self.pool = pool
        self.outbox = outbox
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let outcome = try await sweepOnce()
                if outcome.released.count + outcome.refused > 0 {
                    logger.info(
                        "Held refunds settled",
                        metadata: ["released": "\(outcome.released.count)", "refused": "\(outcome.refused)"]
                    )
                }
            } catch {
                logger.warning("Held refund sweep failed", metadata: ["error": "\(error)"])
            }
            try? await gracefulSleep(interval)
        }
    }

    /// One sweep: settles the held refunds of stored purchases and refreshes the gauges.
    @discardableResult
    public func sweepOnce() async throws -> HeldRefundOutcome {
        let outbox = outbox
        let outcome = try await pool.transaction { connection -> HeldRefundOutcome in
            let purchases = try connection.query(
                """
                SELECT DISTINCT r.original_order_id FROM orders r
                WHERE r.held AND EXISTS (SELECT 1 FROM orders p WHERE p.order_id = r.original_order_id)
                LIMIT $1
                """,
                [Self.batchSize]
            ).map { try $0.decode(0, as: String.self) }.sorted()
            guard !purchases.isEmpty else { return HeldRefundOutcome() }
            // Locked as the writer locks a refund's purchase: in the ids' order, before anything is read of them.
            try connection.execute(
                """
                SELECT count(o.order_id)
                FROM unnest($1::text[]) WITH ORDINALITY AS i(id, n)
                    CROSS JOIN LATERAL (SELECT order_id FROM orders WHERE order_id = i.id OFFSET 0 FOR NO KEY UPDATE) AS o
                """,
                [purchases]
            )
            let outcome = try HeldRefunds.settle(purchases: purchases, outbox: outbox, on: connection)
            try OrderBatchWriter.enqueueEvents(into: outbox, on: connection, written: [], released: outcome.released)
            return outcome
        }
        refused.increment(by: outcome.refused)
        let state = try await pool.query(
            "SELECT count(*), coalesce(date_part('epoch', now() - min(received_at)), 0) FROM orders WHERE held"
        )
        held.record(try state[0].decode(0, as: Int.self))
        oldest.record(try state[0].decode(1, as: Double.self))
        return outcome
    }
}
