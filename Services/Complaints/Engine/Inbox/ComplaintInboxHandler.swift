import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation
import Logging
import Metrics

/// Handles a batch from `complaints.inbox`: new complaints and desks' status updates, committed together.
///
/// - Invalid messages are dead-lettered with the field at fault (`received_at: not RFC 3339 ...`), a time more than a
///   day ahead of the service's clock included.
/// - A new complaint is classified, enriched with the customer's value, prioritised, routed and stored once; its
///   routed form (and a signal for valuable customers) leaves through the outbox in the same transaction.
/// - A `complaint_id` again with the same content is a no-op, with other content a conflict (dead-lettered, the first
///   version stands); a status update for a complaint never received is dead-lettered.
/// - The whole batch is decided by one version of the rules.
public struct ComplaintInboxHandler: Sendable {
    private let pool: PostgresPool
    private let outbox: Outbox
    private let policies: ComplaintPolicyHolder
    private let configuration: ComplaintsConfiguration
    private let logger: Logger
    private let duplicates = Counter(label: "crm_complaints_duplicates_total")
    private let signals = Counter(label: "crm_complaints_signals_total")
    private let batchLatency = Timer(label: "crm_complaints_batch_seconds")

    /// A handler storing complaints through `pool` and writing what it publishes into `outbox`.
    public init(
        pool: PostgresPool,
        outbox: Outbox,
        policies: ComplaintPolicyHolder,
        configuration: ComplaintsConfiguration,
        logger: Logger
    ) {
        self.pool = pool
        self.outbox = outbox
        self.policies = policies
        self.configuration = configuration
        self.logger = logger
    }

    /// One disposition per message, after the batch's effects are committed.
    public func handle(_ batch: [InboundMessage]) async throws -> [MessageDisposition] {
        let start = ContinuousClock.now
        var dispositions = [MessageDisposition](repeating: .processed, count: batch.count)
        var complaints: [NewComplaintWriter.Candidate] = []
        var updates: [StatusUpdateWriter.Candidate] = []
        let received = Date()
        for (index, message) in batch.enumerated() {
            do throws(MessageRejection) {
                let raw = String(decoding: message.body, as: UTF8.self)
                switch try ComplaintsInboxMessage.decode(body: message.body) {
                case .complaint(let complaint):
                    if complaint.receivedAt.isInTheFuture(of: received) {
                        throw Timestamp.inTheFuture(field: "received_at")
                    }
                    complaints.append(.init(index: index, message: complaint, raw: raw))
                case .status(let status):
                    if status.at.isInTheFuture(of: received) { throw Timestamp.inTheFuture(field: "at") }
                    updates.append(.init(index: index, message: status, raw: raw))
                }
            } catch {
                dispositions[index] = .deadLetter(error)
            }
        }
        guard !complaints.isEmpty || !updates.isEmpty else { return dispositions }
        let current = policies.current
        let now = Date()
        let writer = NewComplaintWriter(
            policy: current.policy,
            rulesVersion: current.version,
            configuration: configuration,
            outbox: outbox,
            now: now
        )
        let routing: NewComplaintWriter.Outcome
        let statuses: StatusUpdateWriter.Outcome
        if updates.isEmpty {
            // New complaints only: one INSERT stores them with their outbox rows atomically, and the lookup before it
            // would read no more consistently inside a READ COMMITTED transaction, so no BEGIN and COMMIT round trips.
            routing = try await pool.withConnection { [complaints] connection in
                try await connection.withoutTransaction { connection in try writer.write(complaints, on: connection) }
            }
            statuses = StatusUpdateWriter.Outcome()
        } else {
            (routing, statuses) = try await pool.transaction { [complaints, updates] connection in
                let routing = try writer.write(complaints, on: connection)
                let statuses = try StatusUpdateWriter(policy: current.policy, now: now, outbox: outbox).write(
                    updates,
                    on: connection
                )
                return (routing, statuses)
            }
        }
        for (index, rejection) in routing.rejected + statuses.rejected {
            dispositions[index] = .deadLetter(rejection)
        }
        for routed in routing.routed {
            ComplaintMetrics.routed(desk: routed.desk, category: routed.category, priority: routed.priority)
            if routed.signalled { signals.increment() }
            logger.debug(
                "Complaint routed",
                metadata: [
                    "complaint.id": "\(routed.complaintID)", "desk": "\(routed.desk)", "priority": "\(routed.priority)",
                ]
            )
        }
        for update in updates where dispositions[update.index] == .processed {
            ComplaintMetrics.statusUpdate(update.message.status.rawValue)
        }
        for stop in statuses.stops { ComplaintMetrics.clockStopped(stop) }
        for rating in statuses.ratings { ComplaintMetrics.rated(desk: rating.desk, rating: rating.rating) }
        signals.increment(by: statuses.lowRatings)
        duplicates.increment(by: routing.duplicates)
        batchLatency.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
        return dispositions
    }
}
