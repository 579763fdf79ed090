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
public enum Outbox {
    /// Adds messages to the outbox of `source` (the service's name) in the current transaction.
    public static func enqueue(_ messages: [OutboundMessage], source: String, on connection: isolated PostgresConnection)
        throws
    {
        guard !messages.isEmpty else { return }
        try connection.execute(
            """
            INSERT INTO crm_outbox (source, exchange, routing_key, message_id, body, headers)
            SELECT $1, e, k, m, b, '{}'::jsonb FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t(e, k, m, b)
            """,
            [
                source, messages.map(\.exchange), messages.map(\.routingKey), messages.map(\.messageID),
                messages.map { String(decoding: $0.body, as: UTF8.self) },
            ])
    }
}

/// Publishes a service's outbox with confirms and deletes what the broker confirmed.
///
/// Rows are claimed with `FOR UPDATE SKIP LOCKED` inside a transaction that stays open across the
/// confirmed publish, so replicas never publish the same row concurrently. A crash after publish
/// and before commit publishes the row again: delivery is at least once and every consumer
/// deduplicates by message id or by content.
public final class OutboxRelay: Service, Sendable {
    private let source: String
    private let pool: PostgresPool
    private let publisher: AMQPPublisher
    private let batchSize: Int
    private let idlePoll: Duration
    private let logger: Logger
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let published: Counter
    private let failures: Counter

    public init(
        source: String, pool: PostgresPool, publisher: AMQPPublisher, batchSize: Int = 500,
        idlePoll: Duration = .milliseconds(250), logger: Logger
    ) {
        self.source = source
        self.pool = pool
        self.publisher = publisher
        self.batchSize = batchSize
        self.idlePoll = idlePoll
        self.logger = logger
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        published = Counter(label: "crm_outbox_published_total", dimensions: [("source", source)])
        failures = Counter(label: "crm_outbox_publish_failures_total", dimensions: [("source", source)])
    }

    /// Asks the relay to look at the outbox now rather than at its next poll.
    public func nudge() {
        wake.yield()
    }

    public func run() async throws {
        var attempt = 0
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [idlePoll, wake] in
                    // A steady tick, so rows written by other replicas or before a crash get published.
                    while !Task.isCancelled {
                        try? await Task.sleep(for: idlePoll)
                        wake.yield()
                    }
                }
                for await _ in wakeups {
                    do {
                        while try await relayOnce() == batchSize {}
                        attempt = 0
                    } catch {
                        attempt += 1
                        failures.increment()
                        logger.warning("Outbox relay failed; retrying", metadata: ["error": "\(error)"])
                        try? await Task.sleep(for: Backoff.delay(attempt: attempt, max: .seconds(10)))
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: { [wake] in
            wake.finish()
        }
    }

    /// Publishes one batch; returns how many rows it published.
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
                SELECT id, exchange, routing_key, message_id, body FROM crm_outbox
                WHERE source = $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
                """, [source, batchSize])
            guard !rows.isEmpty else {
                try await connection.execute("COMMIT")
                return 0
            }
            var ids: [Int64] = []
            var messages: [OutboundMessage] = []
            for row in rows {
                ids.append(try row.decode(0))
                messages.append(
                    OutboundMessage(
                        exchange: try row.decode(1), routingKey: try row.decode(2),
                        body: Data((try row.decode(4, as: String.self)).utf8), messageID: try row.decode(3)))
            }
            try await publisher.publish(messages)
            try await connection.execute("DELETE FROM crm_outbox WHERE id = ANY($1::bigint[])", [ids])
            try await connection.execute("COMMIT")
            published.increment(by: rows.count)
            return rows.count
        } catch {
            _ = try? await connection.execute("ROLLBACK")
            throw error
        }
    }
}
