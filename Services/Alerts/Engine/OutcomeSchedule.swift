import CRMPostgres
import CRMSupport
import Foundation

/// Runs the outcome update of each full rescoring once: when `scoring_models` holds a model whose outcome update has
/// not finished, one replica (holding a session advisory lock) judges every alert as of that model's as-of time.
///
/// `alert_outcome_runs` records each run; a run cut short (a crash, a shutdown) is run again at the next tick, which
/// is safe: judging is idempotent.
struct OutcomeSchedule: Sendable {
    /// The advisory-lock key of the outcome update ("CRM_OUTC").
    static let lockKey: Int64 = 0x4352_4D5F_4F55_5443

    /// What one update did.
    struct Report: Sendable {
        var modelID: Int64
        var asOf: Date
        var alerts: Int
        var seconds: Double
    }

    let tracker: OutcomeTracker
    let pool: PostgresPool
    let instanceID: String

    /// Runs the newest full rescoring's outcome update unless it has run or another replica is running it.
    func runIfDue() async throws -> Report? {
        let newest = try await pool.query(
            """
            SELECT m.model_id, m.as_of FROM scoring_models m
            WHERE NOT EXISTS (SELECT 1 FROM alert_outcome_runs r WHERE r.model_id = m.model_id AND r.finished_at IS NOT NULL)
              AND m.model_id = (SELECT max(model_id) FROM scoring_models)
            """
        ).first
        guard let newest else { return nil }
        let modelID: Int64 = try newest.decode(0)
        let asOf: Date = try newest.decode(1)
        return try await pool.withConnection { connection in
            let locked = try await connection.query("SELECT pg_try_advisory_lock($1)", [Self.lockKey])
            guard (try locked.first?.decode(0, as: Bool.self)) == true else { return nil }
            do {
                let report = try await run(modelID: modelID, asOf: asOf, on: connection)
                try await connection.execute("SELECT pg_advisory_unlock($1)", [Self.lockKey])
                return report
            } catch {
                _ = try? await connection.execute("SELECT pg_advisory_unlock($1)", [Self.lockKey])
                throw error
            }
        }
    }

    private func run(modelID: Int64, asOf: Date, on connection: PostgresConnection) async throws -> Report? {
        // Another replica may have finished it between the look and the lock.
        let done = try await connection.query(
            "SELECT 1 FROM alert_outcome_runs WHERE model_id = $1 AND finished_at IS NOT NULL",
            [modelID]
        )
        guard done.isEmpty else { return nil }
        try await connection.execute(
            """
            INSERT INTO alert_outcome_runs (model_id, as_of, instance_id) VALUES ($1, $2, $3)
            ON CONFLICT (model_id) DO UPDATE SET instance_id = EXCLUDED.instance_id, started_at = now()
            """,
            [modelID, asOf, instanceID]
        )
        let started = ContinuousClock.now
        let alerts = try await tracker.judgeAll(asOf: asOf, pool: pool)
        try await connection.execute(
            "UPDATE alert_outcome_runs SET finished_at = now(), alerts = $2 WHERE model_id = $1",
            [modelID, alerts]
        )
        return Report(modelID: modelID, asOf: asOf, alerts: alerts, seconds: (ContinuousClock.now - started).seconds)
    }
}
