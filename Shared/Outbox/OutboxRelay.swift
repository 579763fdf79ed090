import CRMAMQP
import CRMPostgres
import CRMSupport
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Publishes a service's outbox with confirms and deletes what the broker confirmed.
///
/// Two paths. Rows handed over in memory by this process's writers (`OutboxLease`) are published as soon as
/// their transaction commits, then deleted by a statement of their own, off the publishing path; if the publish
/// fails their lease is released for the poll. The poll (every `idlePoll`, or on `nudge`) claims unleased or
/// expired rows with `FOR UPDATE SKIP LOCKED` inside a transaction that stays open across the confirmed publish,
/// so replicas never publish the same row concurrently: rows of other replicas' writers when they have none,
/// rows of a crashed process, rows whose publish failed. A crash after publish and before the delete publishes
/// the rows again: delivery is at least once and every consumer deduplicates by message id or by content.
public final class OutboxRelay: Service, Sendable {
    /// Whose rows it publishes.
    public let source: String
    private let pool: PostgresPool
    private let publisher: AMQPPublisher
    private let batchSize: Int
    private let idlePoll: Duration
    /// How long a handed-over row is left to this relay before a poll may publish it.
    let lease: Duration
    private let maxBacklog: Int
    private let logger: Logger
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let deletions: AsyncStream<Void>
    private let deletionDue: AsyncStream<Void>.Continuation
    private let state = Mutex(HandOver())
    private let published: Counter
    private let failures: Counter

    /// Rows handed over and not yet published.
    private struct HandOver {
        var accepting = false
        /// Rows leased by transactions still open, or handed over and not yet published.
        var reserved = 0
        var queued: [(id: Int64, message: OutboundMessage)] = []
        /// Published rows not yet deleted.
        var confirmed: [Int64] = []
        /// The poll is due (a tick, a nudge, a failed publish).
        var pollDue = true
    }

    /// A relay of the rows of `source`.
    ///
    /// - Parameters:
    ///   - batchSize: rows per publish (default 500).
    ///   - idlePoll: how often the outbox is polled without a nudge (default 250 ms).
    ///   - lease: how long rows handed over in memory are left to this relay (default 15 s); after a crash, other
    ///     replicas (or this service restarted) publish them once it has passed.
    ///   - maxBacklog: rows handed over and not yet published beyond which writers stop handing rows over and
    ///     leave them to the poll (default 20 × `batchSize`).
    public init(
        source: String,
        pool: PostgresPool,
        publisher: AMQPPublisher,
        batchSize: Int = 500,
        idlePoll: Duration = .milliseconds(250),
        lease: Duration = .seconds(15),
        maxBacklog: Int? = nil,
        logger: Logger
    ) {
        precondition(batchSize > 0 && lease >= .seconds(1), "an outbox relay needs a batch and a lease of a second")
        self.source = source
        self.pool = pool
        self.publisher = publisher
        self.batchSize = batchSize
        self.idlePoll = idlePoll
        self.lease = lease
        self.maxBacklog = maxBacklog ?? batchSize * 20
        self.logger = logger
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (deletions, deletionDue) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        published = Counter(label: "crm_outbox_published_total", dimensions: [("source", source)])
        failures = Counter(label: "crm_outbox_publish_failures_total", dimensions: [("source", source)])
    }

    /// Asks the relay to poll the outbox now rather than at its next tick.
    public func nudge() {
        state.withLock { $0.pollDue = true }
        wake.yield()
    }

    /// The relay's child tasks, told apart when they end.
    private enum Child { case tick, deleter }

    public func run() async throws {
        state.withLock { $0.accepting = true }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Child.self) { group in
                group.addTask { [self] in
                    // A steady tick, so rows written by other replicas or before a crash get published.
                    while (try? await Task.sleep(for: idlePoll)) != nil {
                        nudge()
                    }
                    return .tick
                }
                group.addTask { [self] in
                    // Published rows are deleted beside the publishing, several batches per statement: after a
                    // publish the deleter waits a moment for the next ones (one DELETE per publish would cost
                    // PostgreSQL more than the publishing itself).
                    for await _ in deletions {
                        try? await Task.sleep(for: .milliseconds(20))
                        await deleteConfirmed()
                    }
                    await deleteConfirmed()
                    return .deleter
                }
                var attempt = 0
                for await _ in wakeups {
                    await publishHandedOver()
                    let pollDue = state.withLock { state in
                        defer { state.pollDue = false }
                        return state.pollDue
                    }
                    guard pollDue else { continue }
                    do {
                        while try await relayOnce() == batchSize {}
                        attempt = 0
                    } catch {
                        attempt += 1
                        failures.increment()
                        state.withLock { $0.pollDue = true }
                        logger.warning("Outbox relay failed; retrying", metadata: ["error": "\(error)"])
                        // Shutdown cuts the back-off short: what was handed over still goes out below.
                        try? await gracefulSleep(Backoff.delay(attempt: attempt, max: .seconds(10)))
                    }
                }
                // Stopping: what was handed over before the writers stopped goes out and is deleted.
                await publishHandedOver()
                deletionDue.finish()
                // The deleter ends once it has deleted what was confirmed; then the tick is stopped.
                while let child = await group.next(), child != .deleter {}
                group.cancelAll()
            }
        } onGracefulShutdown: { [self] in
            state.withLock { $0.accepting = false }
            wake.finish()
        }
        state.withLock { $0.accepting = false }
    }

    /// Polls: publishes one batch of unleased rows and waits for its confirms; returns how many rows it published.
    @discardableResult
    public func relayOnce() async throws -> Int {
        try await pool.withConnection { connection in
            try await relay(on: connection)
        }
    }

    private func relay(on connection: PostgresConnection) async throws -> Int {
        try await connection.execute("BEGIN")
        do {
            let rows = try await connection.query(
                """
                SELECT \(Outbox.returnedColumns), headers::text FROM crm_outbox
                WHERE source = $1 AND (claimed_until IS NULL OR claimed_until < now())
                ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
                """,
                [source, batchSize]
            )
            guard !rows.isEmpty else {
                try await connection.execute("COMMIT")
                return 0
            }
            let claimed = try rows.map { try Outbox.message(of: $0, from: 0, headersColumn: 5) }
            try await publisher.publish(claimed.map(\.message))
            try await connection.execute("DELETE FROM crm_outbox WHERE id = ANY($1::bigint[])", [claimed.map(\.id)])
            try await connection.execute("COMMIT")
            published.increment(by: rows.count)
            return rows.count
        } catch {
            _ = try? await connection.execute("ROLLBACK")
            throw error
        }
    }

    // MARK: - Rows handed over in memory

    /// Rows leased to this relay and not yet published or given back.
    var backlog: Int { state.withLock { $0.reserved } }

    /// Reserves room for `count` rows about to be written leased to this relay; false when it cannot take them.
    func reserve(_ count: Int) -> Bool {
        state.withLock { state in
            guard state.accepting, state.reserved + count <= maxBacklog else { return false }
            state.reserved += count
            return true
        }
    }

    /// Takes the committed rows of a lease (none when the transaction did not commit) and gives back the rest of
    /// its reservation.
    func accept(_ rows: [(id: Int64, message: OutboundMessage)], reserved: Int) {
        state.withLock { state in
            state.queued += rows
            state.reserved -= reserved - rows.count
        }
        if !rows.isEmpty { wake.yield() }
    }

    private func publishHandedOver() async {
        while true {
            let batch = state.withLock { state in
                let batch = state.queued.prefix(batchSize)
                state.queued.removeFirst(batch.count)
                return Array(batch)
            }
            guard !batch.isEmpty else { return }
            let ids = batch.map(\.id)
            do {
                try await publisher.publish(batch.map(\.message))
                published.increment(by: batch.count)
                state.withLock { state in
                    state.confirmed += ids
                    state.reserved -= batch.count
                }
                deletionDue.yield()
            } catch {
                failures.increment()
                logger.warning("Outbox publish failed; the poll retries", metadata: ["error": "\(error)"])
                // Back to the poll, which retries with back-off; if this fails too, the lease expires.
                _ = try? await pool.execute(
                    """
                    UPDATE crm_outbox SET claimed_until = NULL, attempts = attempts + 1, last_error = $2
                    WHERE id = ANY($1::bigint[])
                    """,
                    [ids, "\(error)"]
                )
                state.withLock { state in
                    state.reserved -= batch.count
                    state.pollDue = true
                }
                return
            }
        }
    }

    private func deleteConfirmed() async {
        let ids = state.withLock { state in
            defer { state.confirmed.removeAll() }
            return state.confirmed
        }
        guard !ids.isEmpty else { return }
        do {
            try await pool.execute("DELETE FROM crm_outbox WHERE id = ANY($1::bigint[])", [ids], prepared: true)
        } catch {
            // Kept for the next round; if they are never deleted, the lease expires and they go out again.
            state.withLock { $0.confirmed += ids }
            logger.warning("Deleting published outbox rows failed", metadata: ["error": "\(error)"])
        }
    }
}
