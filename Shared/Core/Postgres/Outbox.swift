import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Writes events into the transactional outbox, inside the caller's transaction.
///
/// Nothing is published for a transaction that rolls back, and nothing committed is lost if the
/// process dies before the relay publishes it. An outbox message keeps its exchange, routing key,
/// message id and body; AMQP headers are not stored (no event uses them yet; the `headers` column
/// is there for when one does).
///
/// When a relay of the same source runs in this process, the rows are written leased to it
/// (`claimed_until`) and handed to it in memory the moment the transaction commits: the relay
/// publishes them without reading them back, and no other relay touches them before the lease
/// expires. Without one (or with its backlog full) they wait for a relay's poll.
public enum Outbox {
    /// The columns a leased insert returns, in the order `OutboxLease.handOff` reads them.
    public static let returnedColumns = "id, exchange, routing_key, message_id, body"

    /// Adds messages to the outbox of `source` (the service's name) in the current transaction.
    public static func enqueue(_ messages: [OutboundMessage], source: String, on connection: isolated PostgresConnection)
        throws
    {
        guard !messages.isEmpty else { return }
        let lease = OutboxLease.take(messages.count, source: source, on: connection)
        let parameters: [(any PostgresEncodable)?] = [
            source, messages.map(\.exchange), messages.map(\.routingKey), messages.map(\.messageID),
            messages.map { String(decoding: $0.body, as: UTF8.self) }, lease?.milliseconds,
        ]
        let insert = """
            INSERT INTO crm_outbox (source, exchange, routing_key, message_id, body, headers, claimed_until)
            SELECT $1, e, k, m, b, '{}'::jsonb, now() + $6::integer * interval '1 millisecond'
            FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t(e, k, m, b)
            """
        if let lease {
            // The ids alone come back: returning the bodies too sent every batch's event (tens of kilobytes) back.
            let inserted = try connection.query(insert + " RETURNING id, message_id", parameters, prepared: true)
            lease.handOff(try stored(messages, insertedAs: inserted))
        } else {
            try connection.execute(insert, parameters, prepared: true)
        }
    }

    /// The messages paired with the rows (`id, message_id`) their insert returned, each as a poll would read it back:
    /// its stored fields, nothing else.
    private static func stored(_ messages: [OutboundMessage], insertedAs inserted: [PostgresRow]) throws
        -> [(id: Int64, message: OutboundMessage)]
    {
        var positions: [String: [Int]] = [:]
        for (position, message) in messages.enumerated() { positions[message.messageID, default: []].append(position) }
        return try inserted.map { row in
            let messageID: String = try row.decode(1)
            guard let position = positions[messageID]?.first else {
                throw PostgresError(.decodingFailed, message: "the outbox insert returned a message id it was not given: \(messageID)")
            }
            positions[messageID]?.removeFirst()
            let message = messages[position]
            return (
                try row.decode(0),
                OutboundMessage(exchange: message.exchange, routingKey: message.routingKey, body: message.body, messageID: messageID)
            )
        }
    }

    /// The message of an outbox row read as `returnedColumns`, starting at `column`.
    static func message(of row: PostgresRow, from column: Int) throws -> (id: Int64, message: OutboundMessage) {
        let id: Int64 = try row.decode(column)
        let message = OutboundMessage(
            exchange: try row.decode(column + 1), routingKey: try row.decode(column + 2),
            body: Data((try row.decode(column + 4, as: String.self)).utf8), messageID: try row.decode(column + 3))
        return (id, message)
    }
}

/// Outbox rows of one transaction leased to the relay of this process, handed to it when the transaction commits.
///
/// A writer that inserts outbox rows in a statement of its own (rather than through `Outbox.enqueue`) takes a
/// lease, sets `claimed_until = now() + <milliseconds> * interval '1 millisecond'` (NULL when it got none) and
/// returns `Outbox.returnedColumns` from the insert, then passes those rows to `handOff`. Outside a transaction
/// block the insert has committed when it returns, and `handOff` hands the rows over at once; a lease dropped
/// without `handOff` (the insert failed) gives its reservation back.
public final class OutboxLease: Sendable {
    /// The lease's length, for the rows' `claimed_until`.
    public let milliseconds: Int
    private let relay: OutboxRelay
    private let reserved: Int
    private let committedOnHandOff: Bool
    private let rows = Mutex<[(id: Int64, message: OutboundMessage)]>([])
    private let ended = Atomic<Bool>(false)

    private init(relay: OutboxRelay, reserved: Int, committedOnHandOff: Bool) {
        self.relay = relay
        self.reserved = reserved
        self.committedOnHandOff = committedOnHandOff
        milliseconds = Int(relay.lease.components.seconds * 1_000)
    }

    deinit {
        end(committed: false)
    }

    /// A lease on `count` rows of `source`, or nil when no relay of it runs in this process or its backlog is full.
    /// The rows are handed over (or the reservation given back) when the current transaction ends.
    public static func take(_ count: Int, source: String, on connection: isolated PostgresConnection) -> OutboxLease? {
        guard let relay = OutboxRelay.running(source: source, database: connection.url) else { return nil }
        guard relay.reserve(count) else {
            // Full: the rows wait for the poll, which the relay starts as soon as they are committed.
            connection.whenTransactionEnds { committed in if committed { relay.nudge() } }
            return nil
        }
        let lease = OutboxLease(relay: relay, reserved: count, committedOnHandOff: !connection.isInTransaction)
        if connection.isInTransaction {
            connection.whenTransactionEnds { [lease] committed in lease.end(committed: committed) }
        }
        return lease
    }

    /// Records the inserted rows (`Outbox.returnedColumns` from `column` on); they go to the relay on commit, or at
    /// once outside a transaction block.
    public func handOff(_ inserted: [PostgresRow], from column: Int = 0) throws {
        handOff(try inserted.map { try Outbox.message(of: $0, from: column) })
    }

    /// Records inserted rows whose messages the writer still holds.
    func handOff(_ inserted: [(id: Int64, message: OutboundMessage)]) {
        rows.withLock { $0 += inserted }
        if committedOnHandOff { end(committed: true) }
    }

    private func end(committed: Bool) {
        guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // Not committed includes "the answer to COMMIT never came": rows that did commit stay leased and are
        // published by a poll once the lease expires.
        let handed = committed ? rows.withLock { $0 } : []
        relay.accept(handed, reserved: reserved)
    }
}

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
    private let source: String
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
        source: String, pool: PostgresPool, publisher: AMQPPublisher, batchSize: Int = 500,
        idlePoll: Duration = .milliseconds(250), lease: Duration = .seconds(15), maxBacklog: Int? = nil,
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

    public func run() async throws {
        state.withLock { $0.accepting = true }
        Self.register(self)
        await withGracefulShutdownHandler {
            // A steady tick, so rows written by other replicas or before a crash get published.
            let tick = Task { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: idlePoll)
                    nudge()
                }
            }
            defer { tick.cancel() }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [self] in
                    // Published rows are deleted beside the publishing, several batches per statement: after a
                    // publish the deleter waits a moment for the next ones (under load one DELETE per publish would
                    // cost PostgreSQL more than the publishing itself).
                    for await _ in deletions {
                        try? await Task.sleep(for: .milliseconds(20))
                        await deleteConfirmed()
                    }
                    await deleteConfirmed()
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
            }
        } onGracefulShutdown: { [self] in
            Self.unregister(self)
            state.withLock { $0.accepting = false }
            wake.finish()
        }
        Self.unregister(self)
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
                SELECT \(Outbox.returnedColumns) FROM crm_outbox
                WHERE source = $1 AND (claimed_until IS NULL OR claimed_until < now())
                ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
                """, [source, batchSize])
            guard !rows.isEmpty else {
                try await connection.execute("COMMIT")
                return 0
            }
            let claimed = try rows.map { try Outbox.message(of: $0, from: 0) }
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
    fileprivate func reserve(_ count: Int) -> Bool {
        state.withLock { state in
            guard state.accepting, state.reserved + count <= maxBacklog else { return false }
            state.reserved += count
            return true
        }
    }

    /// Takes the committed rows of a lease (none when the transaction did not commit) and gives back the rest of
    /// its reservation.
    fileprivate func accept(_ rows: [(id: Int64, message: OutboundMessage)], reserved: Int) {
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
                    """, [ids, "\(error)"])
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

    // MARK: - The relays running in this process

    /// Running relays by source and database: a writer hands rows only to a relay of the database it wrote them to.
    private static let relays = Mutex<[String: [OutboxRelay]]>([:])

    private var registryKey: String { Self.registryKey(source: source, database: pool.url) }

    private static func registryKey(source: String, database: String) -> String { "\(source) \(database)" }

    /// A relay of `source` over `database` running in this process.
    fileprivate static func running(source: String, database: String) -> OutboxRelay? {
        relays.withLock { $0[registryKey(source: source, database: database)]?.first }
    }

    private static func register(_ relay: OutboxRelay) {
        relays.withLock { $0[relay.registryKey, default: []].append(relay) }
    }

    private static func unregister(_ relay: OutboxRelay) {
        relays.withLock { relays in relays[relay.registryKey]?.removeAll { $0 === relay } }
    }
}
