import CRMAMQP
import CRMPostgres
import CRMSupport
import Synchronization

/// Outbox rows of one transaction leased to the relay of this process, handed to it when the transaction commits.
///
/// A writer that inserts outbox rows in a statement of its own (rather than through `Outbox.enqueue`) takes a
/// lease (`Outbox.lease`), sets `claimed_until = now() + <milliseconds> * interval '1 millisecond'` (NULL when it got none) and
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

    /// A lease on `count` rows for `relay`, or nil when it is not running or its backlog is full.
    static func take(_ count: Int, relay: OutboxRelay, on connection: isolated PostgresConnection) -> OutboxLease? {
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
    /// `headers` are those the writer stored with every row (its trace context, say).
    public func handOff(
        _ inserted: [PostgresRow],
        from column: Int = 0,
        headers: [String: AMQPHeaderValue] = [:]
    ) throws {
        handOff(
            try inserted.map {
                var row = try Outbox.message(of: $0, from: column)
                row.message.headers.merge(headers) { own, _ in own }
                return row
            }
        )
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
