import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation
import Metrics

/// Validates a batch of `customer.v1` messages and stores the valid ones in one transaction.
///
/// - The same checks and dead-lettering as orders: size, UTF-8, JSON, `schema`, required fields and types, labels and
///   the email address; a `registered_at` more than a day ahead of its receipt is refused.
/// - Absent fields never erase known ones; `registered_at` keeps the earliest time heard of. Several messages for one
///   customer in a batch apply in the order they arrived.
/// - A customer stored or changed is named in an `order.accepted` event without orders, in the same transaction, so
///   scoring scores it (as `potential` until its first purchase). A message that changes nothing tells nobody.
public struct CustomerIntakeHandler: Sendable {
    private let pool: PostgresPool
    private let outbox: Outbox
    private let accepted = Counter(label: "crm_intake_customers_total", dimensions: [("result", "stored")])
    private let unchanged = Counter(label: "crm_intake_customers_total", dimensions: [("result", "unchanged")])

    /// A handler storing customers through `pool` and writing their events into `outbox`.
    public init(pool: PostgresPool, outbox: Outbox) {
        self.pool = pool
        self.outbox = outbox
    }

    /// One disposition per message, after the batch's effects are committed.
    @Sendable public func handle(_ batch: [InboundMessage]) async throws -> [MessageDisposition] {
        var dispositions = [MessageDisposition](repeating: .processed, count: batch.count)
        var merged: [Identifier: CustomerMessage] = [:]
        let now = Date()
        for (index, message) in batch.enumerated() {
            do throws(MessageRejection) {
                let customer = try CustomerMessage.decode(body: message.body)
                if customer.registeredAt.isInTheFuture(of: now) { throw Timestamp.inTheFuture(field: "registered_at") }
                merged[customer.customerID] = Self.merge(merged[customer.customerID], customer)
            } catch {
                dispositions[index] = .deadLetter(error)
            }
        }
        guard !merged.isEmpty else { return dispositions }
        let customers = merged.values.sorted { $0.customerID < $1.customerID }
        let outbox = self.outbox
        let changed = try await pool.transaction { connection in
            try Self.store(customers, outbox: outbox, on: connection)
        }
        accepted.increment(by: changed)
        unchanged.increment(by: customers.count - changed)
        return dispositions
    }

    /// Two messages for one customer as one: the later one's fields where it has them, the earlier registration time.
    static func merge(_ earlier: CustomerMessage?, _ later: CustomerMessage) -> CustomerMessage {
        guard let earlier else { return later }
        var result = later
        result.registeredAt = min(earlier.registeredAt, later.registeredAt)
        result.channel = later.channel ?? earlier.channel
        result.customer.name = later.customer.name ?? earlier.customer.name
        result.customer.email = later.customer.email ?? earlier.customer.email
        result.customer.region = later.customer.region ?? earlier.customer.region
        result.customer.type = later.customer.type ?? earlier.customer.type
        return result
    }

    /// Upserts the customers and names those stored or changed in an `order.accepted` event; returns their number.
    static func store(
        _ customers: [CustomerMessage],
        outbox: Outbox,
        on connection: isolated PostgresConnection
    ) throws -> Int {
        // Only a row that changes is rewritten (an ON CONFLICT update always writes a new row version otherwise).
        let stored = try connection.query(
            """
            INSERT INTO customers AS c (customer_id, registered_at, registration_channel, name, email, region,
                                        customer_type)
            SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
                                 $7::text[])
            ON CONFLICT (customer_id) DO UPDATE SET
                registered_at = LEAST(c.registered_at, EXCLUDED.registered_at),
                registration_channel = COALESCE(EXCLUDED.registration_channel, c.registration_channel),
                name = COALESCE(EXCLUDED.name, c.name),
                email = COALESCE(EXCLUDED.email, c.email),
                region = COALESCE(EXCLUDED.region, c.region),
                customer_type = COALESCE(EXCLUDED.customer_type, c.customer_type),
                updated_at = now()
            WHERE (LEAST(c.registered_at, EXCLUDED.registered_at),
                   COALESCE(EXCLUDED.registration_channel, c.registration_channel), COALESCE(EXCLUDED.name, c.name),
                   COALESCE(EXCLUDED.email, c.email), COALESCE(EXCLUDED.region, c.region),
                   COALESCE(EXCLUDED.customer_type, c.customer_type))
                IS DISTINCT FROM (c.registered_at, c.registration_channel, c.name, c.email, c.region, c.customer_type)
            RETURNING customer_id
            """,
            [
                customers.map(\.customerID.rawValue), customers.map(\.registeredAt.date), customers.map(\.channel),
                customers.map(\.customer.name), customers.map(\.customer.email), customers.map(\.customer.region),
                customers.map { $0.customer.type?.rawValue },
            ],
            prepared: true
        )
        let changed = Set(try stored.map { try $0.decode(0, as: String.self) })
        let entries = customers.filter { changed.contains($0.customerID.rawValue) }.map { customer in
            OrderAcceptedEvents.Customer(
                customerID: customer.customerID,
                orderIDs: [],
                occurredAt: customer.registeredAt
            )
        }
        guard !entries.isEmpty else { return 0 }
        let transaction = MessageID.random()
        let messages = try OrderAcceptedEvents.packed(entries).enumerated().map { number, events in
            OutboundMessage(
                exchange: Topology.eventsExchange,
                routingKey: Topology.EventKey.orderAccepted,
                body: try events.encodedBody(),
                messageID: "\(transaction)/\(number)"
            )
        }
        try outbox.enqueue(messages, on: connection)
        return entries.count
    }
}
