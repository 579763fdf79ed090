import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Publishes SLA warnings before breaches and escalations at breaches; one replica at a time.
///
/// Every `CRM_COMPLAINTS_SWEEP_INTERVAL` it takes the complaints whose `next_check_at` has come, rebuilds each SLA
/// clock from its status updates, and asks `ComplaintPolicy.escalationPlan` what is due: a warning to `desk.<desk>`
/// (once per target), an escalation to `desk.escalations` (the routed complaint again with `escalation_level` one
/// higher, once per level, up to the rules' `max_escalation_level`). Missed breaches are caught up level by level.
///
/// Exactly once, across replicas: a sweep runs in one transaction holding a transaction-scoped advisory lock
/// (`pg_try_advisory_xact_lock`; a replica that does not get it skips the round), each row is locked, each
/// escalation is recorded under the primary key (complaint, level) and each warning under (complaint, target), and
/// the messages enter the outbox in the same transaction. A crash before commit publishes nothing; after commit,
/// the outbox publishes at least once with a stable message id (`<complaint>/escalation/<level>`).
public struct SLASweeper: Service {
    /// The advisory lock that makes one replica sweep at a time ("CRM_SLA_").
    public static let lockKey: Int64 = 0x4352_4D5F_534C_415F

    /// What one sweep did.
    public struct Outcome: Sendable {
        /// False when another replica held the lock and this round did nothing.
        public var swept: Bool
        /// Complaints looked at.
        public var examined: Int
        /// (complaint, target) warned.
        public var warnings: [(complaintID: String, target: SLATarget)]
        /// (complaint, level, target) escalated.
        public var escalations: [(complaintID: String, level: Int, target: SLATarget)]
    }

    private let pool: PostgresPool
    private let outbox: Outbox
    private let policies: ComplaintPolicyHolder
    private let interval: Duration
    private let batchSize: Int
    private let logger: Logger
    private let sweepTime = Timer(label: "crm_complaints_sweep_seconds")

    /// A sweeper of `batchSize` complaints per transaction every `interval`, writing warnings and escalations into
    /// `outbox`.
    public init(
        pool: PostgresPool,
        outbox: Outbox,
        policies: ComplaintPolicyHolder,
        interval: Duration,
        batchSize: Int,
        logger: Logger
    ) {
        self.pool = pool
        self.outbox = outbox
        self.policies = policies
        self.interval = interval
        self.batchSize = batchSize
        self.logger = logger
    }

    public func run() async throws {
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var full = false
            do {
                let outcome = try await sweepOnce()
                full = outcome.examined == batchSize
                failures = 0
            } catch {
                failures += 1
                logger.warning("SLA sweep failed; retrying", metadata: ["error": "\(error)"])
            }
            if !full {
                try? await gracefulSleep(failures > 0 ? Backoff.delay(attempt: failures, max: .seconds(30)) : interval)
            }
        }
    }

    /// Sweeps once at `now`: plans, records and enqueues what is due.
    @discardableResult
    public func sweepOnce(now: Date = Date()) async throws -> Outcome {
        let start = ContinuousClock.now
        let policy = policies.current.policy
        let sweep = SLASweep(policy: policy, outbox: outbox, now: now, batchSize: batchSize)
        let result = try await pool.transaction { connection in
            try sweep.run(on: connection)
        }
        for warning in result.warnings { ComplaintMetrics.warned(desk: warning.desk, target: warning.target) }
        for escalation in result.escalations {
            ComplaintMetrics.escalated(desk: escalation.desk, level: escalation.level)
            logger.info(
                "Complaint escalated",
                metadata: [
                    "complaint.id": "\(escalation.complaintID)", "escalation.level": "\(escalation.level)",
                    "sla.target": "\(escalation.target.rawValue)",
                ]
            )
        }
        for breach in result.breaches { ComplaintMetrics.breached(desk: breach.desk, target: breach.target) }
        if result.swept { sweepTime.recordNanoseconds((ContinuousClock.now - start).nanoseconds) }
        return Outcome(
            swept: result.swept,
            examined: result.examined,
            warnings: result.warnings.map { ($0.complaintID, $0.target) },
            escalations: result.escalations.map { ($0.complaintID, $0.level, $0.target) }
        )
    }
}
