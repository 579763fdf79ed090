import CRMAMQP
import CRMPostgres
import CRMSupport
import Foundation

/// A service's transactional outbox: events written inside the caller's transaction, published after it commits.
///
/// Nothing is published for a transaction that rolls back, and nothing committed is lost if the
/// process dies before the relay publishes it. An outbox message keeps its exchange, routing key,
/// message id, body and its string-valued headers (a dead letter's `x-crm-error`, say); other header values and
/// properties are not stored.
///
/// The service's wiring creates one per process with its relay (``init(relay:)``) and gives it to every writer of
/// events. While that relay runs, rows are written leased to it (`claimed_until`) and handed to it in memory the
/// moment the transaction commits: the relay publishes them without reading them back, and no other relay touches
/// them before the lease expires. Without a running relay (``init(source:)``, used by `crm` commands) or with its
/// backlog full, rows wait for the poll of a relay of the same source, in this process or another replica.
public struct Outbox: Sendable {
    /// The columns a leased insert returns, in the order `OutboxLease.handOff` reads them.
    public static let returnedColumns = "id, exchange, routing_key, message_id, body"

    /// Whose rows these are (the service's name): its relays publish them, and its role alone may see them.
    public let source: String
    /// The relay of this process that committed rows are handed to.
    let relay: OutboxRelay?

    /// An outbox whose rows `relay` publishes as soon as they commit.
    public init(relay: OutboxRelay) {
        source = relay.source
        self.relay = relay
    }

    /// An outbox written by a process that runs no relay of `source`: a relay's poll publishes the rows.
    public init(source: String) {
        self.source = source
        relay = nil
    }

    /// Adds messages to the outbox in the current transaction.
    public func enqueue(_ messages: [OutboundMessage], on connection: isolated PostgresConnection) throws {
        guard !messages.isEmpty else { return }
        // The trace context of the span writing them is kept with the rows (string headers), so the relay's publish,
        // later and elsewhere, continues the trace.
        let messages = MessageTracing.stamped(messages)
        let lease = lease(messages.count, on: connection)
        let parameters: [(any PostgresEncodable)?] = [
            source, messages.map(\.exchange), messages.map(\.routingKey), messages.map(\.messageID),
            messages.map { String(decoding: $0.body, as: UTF8.self) }, lease?.milliseconds,
            messages.map { Self.headersJSON($0.headers) },
        ]
        let insert = """
            INSERT INTO crm_outbox (source, exchange, routing_key, message_id, body, headers, claimed_until)
            SELECT $1, e, k, m, b, coalesce(h::jsonb, '{}'::jsonb), now() + $6::integer * interval '1 millisecond'
            FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $7::text[]) AS t(e, k, m, b, h)
            """
        if let lease {
            // The ids alone come back: returning the bodies too sent every batch's event back.
            let inserted = try connection.query(insert + " RETURNING id, message_id", parameters, prepared: true)
            lease.handOff(try Self.stored(messages, insertedAs: inserted))
        } else {
            try connection.execute(insert, parameters, prepared: true)
        }
    }

    /// A lease on `count` rows about to be inserted by a statement of the writer's own, or nil when this process
    /// runs no relay of the outbox or its backlog is full (see ``OutboxLease``). The rows are handed over (or the
    /// reservation given back) when the current transaction ends.
    public func lease(_ count: Int, on connection: isolated PostgresConnection) -> OutboxLease? {
        guard let relay else { return nil }
        return OutboxLease.take(count, relay: relay, on: connection)
    }

    /// The messages paired with the rows (`id, message_id`) their insert returned, each as a poll would read it back:
    /// its stored fields, nothing else.
    private static func stored(
        _ messages: [OutboundMessage],
        insertedAs inserted: [PostgresRow]
    ) throws
        -> [(id: Int64, message: OutboundMessage)]
    {
        var positions: [String: [Int]] = [:]
        for (position, message) in messages.enumerated() { positions[message.messageID, default: []].append(position) }
        return try inserted.map { row in
            let messageID: String = try row.decode(1)
            guard let position = positions[messageID]?.first else {
                throw PostgresError(
                    .decodingFailed,
                    message: "the outbox insert returned a message id it was not given: \(messageID)"
                )
            }
            positions[messageID]?.removeFirst()
            let message = messages[position]
            return (
                try row.decode(0),
                OutboundMessage(
                    exchange: message.exchange,
                    routingKey: message.routingKey,
                    body: message.body,
                    headers: message.headers.filter { $0.value.stringValue != nil }
                        .mapValues { .string($0.stringValue ?? "") },
                    messageID: messageID,
                    mandatory: Topology.isMandatory(exchange: message.exchange)
                )
            )
        }
    }

    /// The headers a row written now stores for its trace: the current span's `traceparent` and `tracestate`. For a
    /// writer with an insert of its own (store `headersJSON(traceHeaders)` and hand the rows off with them).
    public static var traceHeaders: [String: AMQPHeaderValue] {
        MessageTracing.stamped([OutboundMessage(exchange: "", routingKey: "", body: Data())])[0].headers
    }

    /// The string-valued headers as a JSON object, or nil when there are none (stored as `{}`).
    public static func headersJSON(_ headers: [String: AMQPHeaderValue]) -> String? {
        let strings = headers.compactMapValues(\.stringValue)
        guard !strings.isEmpty, let data = try? JSONSerialization.data(withJSONObject: strings, options: [.sortedKeys])
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Headers stored as a JSON object of strings.
    static func headers(fromJSON text: String?) -> [String: AMQPHeaderValue] {
        guard let text, text != "{}",
            let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        else { return [:] }
        return object.compactMapValues { ($0 as? String).map(AMQPHeaderValue.string) }
    }

    /// The message of an outbox row read as `returnedColumns`, starting at `column`, with its headers (`headers::text`)
    /// from `headersColumn` when the row has them; mandatory unless its exchange says otherwise
    /// (``Topology/isMandatory(exchange:)``).
    static func message(
        of row: PostgresRow,
        from column: Int,
        headersColumn: Int? = nil
    ) throws -> (id: Int64, message: OutboundMessage) {
        let id: Int64 = try row.decode(column)
        let exchange: String = try row.decode(column + 1)
        let message = OutboundMessage(
            exchange: exchange,
            routingKey: try row.decode(column + 2),
            body: Data((try row.decode(column + 4, as: String.self)).utf8),
            headers: try headersColumn.map { headers(fromJSON: try row.decodeIfPresent($0, as: String.self)) } ?? [:],
            messageID: try row.decode(column + 3),
            mandatory: Topology.isMandatory(exchange: exchange)
        )
        return (id, message)
    }
}
