import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation

/// A purchase as a refund is judged against: its customer, its kind, its amount and what is refunded of it already.
struct RefundedOrder {
    var customer: String
    var kind: String
    var amount: Decimal
    var refunded: Decimal = 0
}

/// Why a refund cannot apply to the order it names, or nil when it can: the purchase of the same customer, with
/// everything refunded of it so far and this refund together no more than its amount.
func refundProblem(customer: String, amount: Decimal, against original: RefundedOrder) -> MessageRejection? {
    if original.kind != OrderMessage.Kind.purchase.rawValue {
        return MessageRejection(.invalidValue, field: "original_order_id", "refers to a refund, not a purchase")
    }
    if original.customer != customer {
        return MessageRejection(.invalidValue, field: "original_order_id", "refers to another customer's order")
    }
    if original.refunded + amount > original.amount {
        return MessageRejection(
            .invalidValue,
            field: "amount",
            original.refunded > 0
                ? "with the refunds already applied, more than the original order" : "larger than the original order"
        )
    }
    return nil
}

extension OrderBatchWriter {
    /// Marks refunds whose purchase is not stored yet as held and moves those that cannot apply to `refused`.
    ///
    /// A stored purchase is judged as stored, not as a copy of it in the batch says: the first version stands. Its row
    /// is locked first (in one order of ids, so replicas never deadlock), then what is refunded of it is read: a
    /// refund committed meanwhile by another replica or batch is counted, so the refunds of a purchase never add up to
    /// more than it, however they race. The batch's refunds apply in the batch's order.
    func checkRefunds(
        on connection: isolated PostgresConnection,
        _ rows: inout [Row],
        _ refused: inout [(row: Row, rejection: MessageRejection)]
    ) throws {
        let refundIDs = rows.filter { $0.order.kind == .refund }.map(\.order.orderID.rawValue)
        let originals = Set(rows.compactMap { $0.order.originalOrderID?.rawValue }).sorted()
        guard !originals.isEmpty else { return }
        var known: [String: RefundedOrder] = [:]
        for row in try connection.query(
            // A probe per id (OFFSET 0 keeps the subquery a parameterised index scan), locked in the ids' order.
            """
            SELECT o.order_id, o.customer_id, o.kind, o.amount_base
            FROM unnest($1::text[]) WITH ORDINALITY AS i(id, n)
                CROSS JOIN LATERAL (SELECT order_id, customer_id, kind, amount_base FROM orders
                                    WHERE order_id = i.id OFFSET 0 FOR NO KEY UPDATE) AS o
            ORDER BY i.n
            """,
            [originals],
            prepared: true
        ) {
            known[try row.decode(0)] = RefundedOrder(
                customer: try row.decode(1),
                kind: try row.decode(2),
                amount: try row.decode(3)
            )
        }
        if !known.isEmpty {
            // A statement of its own, after the locks: it sees what a transaction that held one committed.
            for row in try connection.query(
                """
                SELECT original_order_id, sum(amount_base) FROM orders
                WHERE kind = 'refund' AND NOT held AND original_order_id = ANY($1::text[])
                  AND order_id <> ALL($2::text[])
                GROUP BY 1
                """,
                [Array(known.keys), refundIDs],
                prepared: true
            ) {
                known[try row.decode(0)]?.refunded = try row.decode(1)
            }
        }
        // An order of the batch itself, purchase or refund, is known as it is sent unless stored already.
        for row in rows where known[row.order.orderID.rawValue] == nil {
            guard originals.contains(row.order.orderID.rawValue) else { continue }
            known[row.order.orderID.rawValue] = RefundedOrder(
                customer: row.order.customerID.rawValue,
                kind: row.order.kind.rawValue,
                amount: row.baseAmount
            )
        }
        var rejected: Set<Int> = []
        for position in rows.indices {
            let row = rows[position]
            guard row.order.kind == .refund, let original = row.order.originalOrderID?.rawValue else { continue }
            guard let purchase = known[original] else {
                rows[position].held = true
                continue
            }
            if let problem = refundProblem(
                customer: row.order.customerID.rawValue,
                amount: row.baseAmount,
                against: purchase
            ) {
                refused.append((row, problem))
                rejected.insert(row.index)
            } else {
                known[original]?.refunded += row.baseAmount
            }
        }
        rows.removeAll { rejected.contains($0.index) }
    }

    /// Keeps the bodies of the held refunds just stored, to dead-letter them if their purchase refuses them.
    func keepHeldBodies(on connection: isolated PostgresConnection, _ rows: [Row]) throws {
        let held = rows.filter(\.held)
        guard !held.isEmpty else { return }
        try connection.execute(
            """
            INSERT INTO held_refunds (order_id, body) SELECT * FROM unnest($1::text[], $2::text[])
            ON CONFLICT (order_id) DO NOTHING
            """,
            [held.map(\.order.orderID.rawValue), held.map { $0.body ?? "" }],
            prepared: true
        )
    }
}

/// What became of held refunds when their purchase was found.
public struct HeldRefundOutcome: Sendable {
    /// Refunds that count from now on: (customer, refund id).
    public var released: [(customer: String, order: String)] = []
    /// Refunds that never can, dead-lettered with their reason.
    public var refused = 0
}

/// Releases held refunds of purchases now stored, or dead-letters those that can never apply.
///
/// The held refunds of a purchase apply in the order they happened, each while the purchase's refunds together stay
/// within it; a refund of another customer's order, of a refund, or past what is left of the purchase is taken out
/// (`crm_refuse_held_refunds`) and its body published to `intake.orders.dead` with the reason, through the outbox, so
/// an operator can correct and replay it. The caller holds the purchases: inserted in its transaction, or locked.
enum HeldRefunds {
    static func settle(
        purchases purchaseIDs: [String],
        outbox: Outbox,
        on connection: isolated PostgresConnection
    ) throws -> HeldRefundOutcome {
        var outcome = HeldRefundOutcome()
        guard !purchaseIDs.isEmpty else { return outcome }
        // The held refunds filter by the ids (the small partial index `orders_held`), never the purchases: filtering
        // the purchases by a 500-element array read every stored order. Each one's purchase is a primary-key probe.
        let held = try connection.query(
            """
            SELECT r.order_id, r.customer_id, r.amount_base, r.original_order_id, p.customer_id, p.kind, p.amount_base,
                   (SELECT coalesce(sum(a.amount_base), 0) FROM orders a
                    WHERE a.kind = 'refund' AND NOT a.held AND a.original_order_id = r.original_order_id)
            FROM orders r
                CROSS JOIN LATERAL (SELECT customer_id, kind, amount_base FROM orders
                                    WHERE order_id = r.original_order_id OFFSET 0) AS p
            WHERE r.held AND r.original_order_id = ANY($1::text[])
            ORDER BY r.original_order_id, r.occurred_at, r.order_id
            """,
            [purchaseIDs],
            prepared: true
        )
        var originals: [String: RefundedOrder] = [:]
        var released: [String] = []
        var refused: [(id: String, rejection: MessageRejection)] = []
        for row in held {
            let (id, customer, amount, original): (String, String, Decimal, String) = (
                try row.decode(0), try row.decode(1), try row.decode(2), try row.decode(3)
            )
            let purchase =
                try originals[original]
                ?? RefundedOrder(
                    customer: row.decode(4),
                    kind: row.decode(5),
                    amount: row.decode(6),
                    refunded: row.decode(7)
                )
            if let problem = refundProblem(customer: customer, amount: amount, against: purchase) {
                refused.append((id, problem))
                originals[original] = purchase
            } else {
                released.append(id)
                originals[original] = RefundedOrder(
                    customer: purchase.customer,
                    kind: purchase.kind,
                    amount: purchase.amount,
                    refunded: purchase.refunded + amount
                )
            }
        }
        if !released.isEmpty {
            outcome.released = try connection.query(
                "UPDATE orders SET held = false WHERE order_id = ANY($1::text[]) AND held RETURNING customer_id, order_id",
                [released],
                prepared: true
            ).map { (try $0.decode(0), try $0.decode(1)) }
            try connection.execute(
                "DELETE FROM held_refunds WHERE order_id = ANY($1::text[])",
                [released],
                prepared: true
            )
        }
        if !refused.isEmpty {
            outcome.refused = try refuse(refused, outbox: outbox, on: connection)
        }
        return outcome
    }

    /// Takes refused held refunds out and dead-letters their bodies; returns how many.
    private static func refuse(
        _ refused: [(id: String, rejection: MessageRejection)],
        outbox: Outbox,
        on connection: isolated PostgresConnection
    ) throws -> Int {
        let ids = refused.map(\.id)
        // Its body as received; a refund held before bodies were kept is written anew from the stored order
        // (without its customer and items).
        var bodies: [String: String] = [:]
        for row in try connection.query(
            """
            SELECT o.order_id, coalesce(b.body, json_strip_nulls(json_build_object(
                'schema', 'order.v1', 'order_id', o.order_id, 'customer_id', o.customer_id,
                'occurred_at', to_char(o.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                'kind', o.kind, 'original_order_id', o.original_order_id, 'amount', o.amount::text,
                'currency', o.currency, 'cost', o.cost::text, 'channel', o.channel))::text)
            FROM orders o LEFT JOIN held_refunds b ON b.order_id = o.order_id
            WHERE o.order_id = ANY($1::text[])
            """,
            [ids]
        ) {
            bodies[try row.decode(0)] = try row.decode(1)
        }
        let removed = Set(
            try connection.query("SELECT crm_refuse_held_refunds($1::text[])", [ids]).map {
                try $0.decode(0, as: String.self)
            }
        )
        let letters = refused.filter { removed.contains($0.id) }.map { id, rejection in
            OutboundMessage(
                exchange: Topology.deadLetterExchange,
                routingKey: Topology.intakeQueue,
                body: Data((bodies[id] ?? "").utf8),
                headers: [
                    Topology.errorHeader: .string(rejection.reason),
                    "x-crm-original-exchange": .string(Topology.ordersExchange),
                    "x-crm-original-routing-key": .string("order.v1"),
                    "x-crm-dead-lettered-at": .string(Timestamp(Date()).rfc3339),
                ],
                messageID: "\(id)/refused"
            )
        }
        try outbox.enqueue(letters, on: connection)
        return letters.count
    }
}
