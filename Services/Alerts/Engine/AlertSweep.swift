import CRMPostgres
import CRMSchema
import CRMSupport
import Foundation
import ServiceLifecycle

/// Evaluates every customer whose stored score is newer than this service's last evaluation of it.
///
/// Scoring publishes `customer.scored` only when stage, tier or p_alive move past a threshold, but every full
/// rescoring moves every score to its as-of time (rewritten, or kept as it stands when it did not move): a customer
/// who simply stopped buying grows overdue there without any event. The sweep finds those rows (the time a score
/// stands as of, `Schema.scoreAsOf`, newer than the evaluated one) and evaluates them exactly as an event would, a chunk of customers per transaction under the same
/// per-customer locks, so a sweep and the consumers never raise the same alert twice.
///
/// Only one replica sweeps at a time: the sweep holds a session advisory lock for its whole run (released by the
/// server if the process dies) and starts only when no sweep started within the interval (`alert_sweeps`).
struct AlertSweep: Sendable {
    /// The advisory-lock key of the sweep ("CRM_ALRT").
    static let lockKey: Int64 = 0x4352_4D5F_414C_5254

    /// What one sweep did.
    struct Report: Sendable {
        var customers: Int
        var tally: AlertsMetrics.Tally
        var seconds: Double
    }

    let evaluator: AlertEvaluator
    let pool: PostgresPool
    let instanceID: String
    /// Customers per transaction.
    var chunkSize = 1000

    /// Sweeps unless another replica is sweeping or a sweep started less than `interval` ago; nil when skipped.
    func runIfDue(interval: Duration?) async throws -> Report? {
        try await pool.withConnection { connection in
            let locked = try await connection.query("SELECT pg_try_advisory_lock($1)", [Self.lockKey])
            guard (try locked.first?.decode(0, as: Bool.self)) == true else { return nil }
            do {
                let report = try await sweep(interval: interval, on: connection)
                try await connection.execute("SELECT pg_advisory_unlock($1)", [Self.lockKey])
                return report
            } catch {
                _ = try? await connection.execute("SELECT pg_advisory_unlock($1)", [Self.lockKey])
                throw error
            }
        }
    }

    private func sweep(interval: Duration?, on connection: PostgresConnection) async throws -> Report? {
        if let interval {
            let due = try await connection.query(
                "SELECT coalesce(max(started_at) <= now() - make_interval(secs => $1), true) FROM alert_sweeps",
                [interval.seconds]
            )
            guard try due.first?.decode(0, as: Bool.self) == true else { return nil }
        }
        let started = ContinuousClock.now
        let sweepID: Int64 = try await connection.query(
            "INSERT INTO alert_sweeps (instance_id, started_at) VALUES ($1, now()) RETURNING id",
            [instanceID]
        )[0].decode(0)
        var tally = AlertsMetrics.Tally()
        var customers = 0
        var after = ""
        // On shutdown the sweep stops between chunks; the next one (here or on another replica) picks up the rest.
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let ids = try await connection.query(
                """
                SELECT s.customer_id FROM customer_scores s
                LEFT JOIN alert_customer_state st ON st.customer_id = s.customer_id
                WHERE s.customer_id > $1 AND (st.customer_id IS NULL OR \(Schema.scoreAsOf("s")) > st.scored_at)
                ORDER BY s.customer_id LIMIT $2
                """,
                [after, chunkSize]
            ).map { try $0.decode(0, as: String.self) }
            guard let last = ids.last else { break }
            let evaluator = evaluator
            let chunk = try await connection.transaction { connection in
                try evaluator.evaluate(customers: ids, now: Date(), on: connection)
            }
            tally.add(chunk)
            customers += ids.count
            after = last
        }
        try await connection.execute(
            "UPDATE alert_sweeps SET finished_at = now(), customers = $2, alerts = $3 WHERE id = $1",
            [sweepID, customers, tally.alerts]
        )
        return Report(customers: customers, tally: tally, seconds: (ContinuousClock.now - started).seconds)
    }
}
