import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation

/// What one batch did, for the dispositions and the metrics.
struct OrderBatchOutcome: Sendable {
    var rejected: [(index: Int, rejection: MessageRejection)] = []
    var inserted = 0
    var duplicates = 0
    var conflicts = 0
    /// Held refunds of earlier batches that a purchase of this one refused (dead-lettered through the outbox).
    var refusedHeldRefunds = 0
}

/// Writes a batch of validated orders set-wise inside the caller's transaction.
///
/// Every statement covers the whole batch through array parameters, so a batch of 250 orders costs
/// a handful of round trips, not 250 transactions. Each is prepared once per connection: parsing, analysing and
/// planning them again for every batch was a measurable share of the server's work (BENCHMARKS.md). Their plans do not depend on how many
/// orders a batch holds (each order is a primary-key probe or an inserted row), so a generic plan is as good.
struct OrderBatchWriter {
    let baseCurrency: String
    /// The largest amount or cost an order may have, in the base currency (`CRM_INTAKE_MAXIMUM_AMOUNT`).
    let maximumAmount: Decimal
    /// Where the batch's `order.accepted` events are written.
    let outbox: Outbox
    /// The trace id each message of the batch carried (by its index in the batch), stored with its order so that
    /// `crm order ID` can name the trace; nil for a message without one (the batch's trace is stored instead).
    var traceIDs: [String?] = []

    static let conflict = MessageRejection(
        .conflict,
        field: "order_id",
        "already stored with different content; the first version stands"
    )

    /// A decoded order and the fingerprint of its canonical form (`MD5.hex`, as `orders.content_hash` holds it), at
    /// its position in the batch.
    struct Candidate: Sendable {
        var index: Int
        var order: OrderMessage
        var contentHash: String
        /// The body as received, kept for a refund: held, it may be dead-lettered later.
        var body: String?
    }

    struct Row {
        var index: Int
        var order: OrderMessage
        var contentHash: String
        var rate: Decimal
        var held = false
        var body: String?
    }

    func write(_ candidates: [Candidate], on connection: isolated PostgresConnection) throws -> OrderBatchOutcome {
        var outcome = OrderBatchOutcome()
        guard !candidates.isEmpty else { return outcome }

        // 1. Within the batch: the first occurrence of an id is the candidate; repeats are duplicates or conflicts.
        var firstByID: [String: String] = [:]
        var rows: [Row] = []
        for candidate in candidates {
            let (index, order, hash) = (candidate.index, candidate.order, candidate.contentHash)
            if let first = firstByID[order.orderID.rawValue] {
                if first == hash { outcome.duplicates += 1 } else { reject(index, Self.conflict, &outcome) }
                continue
            }
            firstByID[order.orderID.rawValue] = hash
            rows.append(Row(index: index, order: order, contentHash: hash, rate: 1, body: candidate.body))
        }

        // 2. Checks that need no stored copy of the order: a rate for its currency, a refund's purchase. A row that
        //    fails one is refused only once step 4 knows it is not stored already: a redelivery stays a harmless
        //    duplicate whatever changed since (a rate removed, say).
        var refused: [(row: Row, rejection: MessageRejection)] = []
        let rates = try exchangeRates(on: connection, for: Set(rows.map(\.order.currency.code)))
        rows.removeAll { row in
            guard rates[row.order.currency.code] != nil else {
                refused.append(
                    (
                        row,
                        MessageRejection(
                            .invalidValue,
                            field: "currency",
                            "no exchange rate from \(row.order.currency.code) to \(baseCurrency); set one with `crm fx set`"
                        )
                    )
                )
                return true
            }
            return false
        }
        for position in rows.indices { rows[position].rate = rates[rows[position].order.currency.code] ?? 1 }
        rows.removeAll { row in
            guard let problem = exceedsMaximum(row) else { return false }
            refused.append((row, problem))
            return true
        }
        try checkRefunds(on: connection, &rows, &refused)

        // 3. The orders, inserted where their id is new: no lookup first, as nearly every order is new.
        let inserted = try insertOrders(on: connection, rows)
        var written: [Row] = []
        var doubtful = refused
        for row in rows {
            if inserted.contains(row.order.orderID.rawValue) {
                written.append(row)
            } else {
                // Stored already, by an earlier batch or a moment ago by another replica.
                doubtful.append((row, Self.conflict))
            }
        }
        outcome.inserted = written.count

        // 4. A row not inserted or refused is a duplicate or a conflict when its id is stored, else refused for its
        //    reason.
        if !doubtful.isEmpty {
            let stored = try storedHashesMatch(
                on: connection,
                ids: doubtful.map(\.row.order.orderID.rawValue),
                hashes: doubtful.map(\.row.contentHash)
            )
            for (row, rejection) in doubtful {
                switch stored[row.order.orderID.rawValue] {
                case true?: outcome.duplicates += 1
                case false?: reject(row.index, Self.conflict, &outcome)
                case nil: reject(row.index, rejection, &outcome)
                }
            }
        }
        guard !written.isEmpty else { return outcome }

        // 5. The stored orders' customers and items, and the bodies of held refunds; a redelivered order changes no
        //    customer.
        try upsertCustomers(on: connection, written)
        try insertItems(on: connection, written)
        try keepHeldBodies(on: connection, written)

        // 6. Held refunds whose purchase just arrived now count, or are dead-lettered when they never can.
        let settled = try HeldRefunds.settle(
            purchases: written.filter { $0.order.kind == .purchase }.map(\.order.orderID.rawValue),
            outbox: outbox,
            on: connection
        )
        outcome.refusedHeldRefunds = settled.refused

        // 7. Tell scoring, through the outbox, of every customer touched.
        try Self.enqueueEvents(into: outbox, on: connection, written: written, released: settled.released)
        return outcome
    }

    /// Why an order's amount or cost is too large to take, in the base currency: sums over a customer's orders must
    /// stay far from what any figure downstream can hold.
    private func exceedsMaximum(_ row: Row) -> MessageRejection? {
        // Most orders are in the base currency: their amounts are compared as they are, without a conversion.
        let amount = row.rate == 1 ? row.order.amount.decimal : row.baseAmount
        let cost = row.rate == 1 ? row.order.cost?.decimal : row.baseCost
        guard amount > maximumAmount || (cost ?? 0) > maximumAmount else { return nil }
        let limit = "larger than the maximum of \(maximumAmount) \(baseCurrency) an order may have"
        return MessageRejection(.invalidValue, field: amount > maximumAmount ? "amount" : "cost", limit)
    }

    private func reject(_ index: Int, _ rejection: MessageRejection, _ outcome: inout OrderBatchOutcome) {
        outcome.rejected.append((index, rejection))
        if rejection.code == .conflict { outcome.conflicts += 1 }
    }

    /// For ids already stored: whether the stored content equals the incoming one (by fingerprint).
    ///
    /// One primary-key probe per id, written as a subquery so that no plan can read the whole table instead: a join
    /// planned on a young table's statistics hashed every stored order for every batch.
    private func storedHashesMatch(
        on connection: isolated PostgresConnection,
        ids: [String],
        hashes: [String]
    ) throws -> [String: Bool] {
        guard !ids.isEmpty else { return [:] }
        let found = try connection.query(
            """
            SELECT i.id, (SELECT o.content_hash = i.h FROM orders o WHERE o.order_id = i.id)
            FROM unnest($1::text[], $2::text[]) AS i(id, h)
            """,
            [ids, hashes],
            prepared: true
        )
        var result: [String: Bool] = [:]
        for row in found {
            guard let same = try row.decodeIfPresent(1, as: Bool.self) else { continue }
            result[try row.decode(0)] = same
        }
        return result
    }

    private func exchangeRates(
        on connection: isolated PostgresConnection,
        for currencies: Set<String>
    ) throws -> [String: Decimal] {
        var rates: [String: Decimal] = [baseCurrency: 1]
        let foreign = currencies.subtracting([baseCurrency]).sorted()
        guard !foreign.isEmpty else { return rates }
        for row in try connection.query(
            "SELECT currency, rate_to_base FROM fx_rates WHERE currency = ANY($1::text[])",
            [foreign],
            prepared: true
        ) {
            rates[try row.decode(0)] = try row.decode(1, as: Decimal.self)
        }
        return rates
    }

    private func upsertCustomers(on connection: isolated PostgresConnection, _ rows: [Row]) throws {
        // Merge per customer first: one row each, later orders' known fields win, absent fields never erase.
        // Unchanged customers are not rewritten (an ON CONFLICT update always writes a new row version).
        var merged: [String: OrderCustomer] = [:]
        for row in rows.sorted(by: { $0.order.occurredAt < $1.order.occurredAt }) {
            var customer = merged[row.order.customerID.rawValue] ?? OrderCustomer()
            if let incoming = row.order.customer {
                customer.name = incoming.name ?? customer.name
                customer.email = incoming.email ?? customer.email
                customer.region = incoming.region ?? customer.region
                customer.type = incoming.type ?? customer.type
            }
            merged[row.order.customerID.rawValue] = customer
        }
        // A customer the batch knows nothing about needs only to exist. An ON CONFLICT update would lock the stored
        // row even when its WHERE leaves it unchanged: a row lock written (and logged) for every order of a returning
        // customer, and a wait whenever two consumers' batches share a customer. DO NOTHING takes no lock.
        let bare = merged.filter { $0.value.isEmpty }.keys.sorted()
        if !bare.isEmpty {
            try connection.execute(
                "INSERT INTO customers (customer_id) SELECT unnest($1::text[]) ON CONFLICT (customer_id) DO NOTHING",
                [bare],
                prepared: true
            )
        }
        let ids = merged.filter { !$0.value.isEmpty }.keys.sorted()
        guard !ids.isEmpty else { return }
        let customers = ids.map { merged[$0]! }
        try connection.execute(
            """
            INSERT INTO customers (customer_id, name, email, region, customer_type)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
            ON CONFLICT (customer_id) DO UPDATE SET
                name = COALESCE(EXCLUDED.name, customers.name),
                email = COALESCE(EXCLUDED.email, customers.email),
                region = COALESCE(EXCLUDED.region, customers.region),
                customer_type = COALESCE(EXCLUDED.customer_type, customers.customer_type),
                updated_at = now()
            WHERE (COALESCE(EXCLUDED.name, customers.name), COALESCE(EXCLUDED.email, customers.email),
                   COALESCE(EXCLUDED.region, customers.region), COALESCE(EXCLUDED.customer_type, customers.customer_type))
                IS DISTINCT FROM (customers.name, customers.email, customers.region, customers.customer_type)
            """,
            [
                ids, customers.map(\.name), customers.map(\.email), customers.map(\.region),
                customers.map { $0.type?.rawValue },
            ],
            prepared: true
        )
    }

    /// Inserts the orders; returns the ids this transaction actually inserted.
    ///
    /// Amounts travel as ``Money``'s plain digits, which `numeric` parses exactly; at a rate of 1 the base amounts
    /// are the same text, so most orders convert each amount to text once.
    private func insertOrders(on connection: isolated PostgresConnection, _ rows: [Row]) throws -> Set<String> {
        guard !rows.isEmpty else { return [] }
        let amounts = rows.map(\.order.amount.description)
        let costs = rows.map { $0.order.cost?.description }
        let baseAmounts = rows.indices.map { rows[$0].rate == 1 ? amounts[$0] : rows[$0].baseAmount.description }
        let baseCosts = rows.indices.map { rows[$0].rate == 1 ? costs[$0] : rows[$0].baseCost?.description }
        let batchTrace = TraceContext.current
        let inserted = try connection.query(
            """
            INSERT INTO orders (order_id, customer_id, kind, original_order_id, occurred_at, amount, currency,
                                amount_base, cost, cost_base, channel, held, content_hash, trace_id, batch_id)
            SELECT t.*, $15::text
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::numeric[], $7::text[],
                        $8::numeric[], $9::numeric[], $10::numeric[], $11::text[], $12::boolean[], $13::text[],
                        $14::text[]) AS t
            ON CONFLICT (order_id) DO NOTHING
            RETURNING order_id
            """,
            [
                rows.map(\.order.orderID.rawValue), rows.map(\.order.customerID.rawValue),
                rows.map(\.order.kind.rawValue),
                rows.map { $0.order.originalOrderID?.rawValue }, rows.map(\.order.occurredAt.date),
                amounts, rows.map(\.order.currency.code), baseAmounts, costs, baseCosts, rows.map(\.order.channel),
                rows.map(\.held),
                rows.map(\.contentHash),
                rows.map { row in
                    (traceIDs.indices.contains(row.index) ? traceIDs[row.index] : nil) ?? batchTrace?.traceID
                },
                // The batch: the span that stored it, whose id is the parent of the order.accepted it wrote.
                batchTrace?.spanID,
            ],
            prepared: true
        )
        return Set(try inserted.map { try $0.decode(0, as: String.self) })
    }

    private func insertItems(on connection: isolated PostgresConnection, _ rows: [Row]) throws {
        var orderIDs: [String] = []
        var positions: [Int] = []
        var skus: [String] = []
        var quantities: [Int] = []
        var prices: [String?] = []
        var categories: [String?] = []
        for row in rows {
            for (position, item) in row.order.items.enumerated() {
                orderIDs.append(row.order.orderID.rawValue)
                positions.append(position)
                skus.append(item.sku)
                quantities.append(item.quantity)
                prices.append(item.unitPrice?.description)
                categories.append(item.category)
            }
        }
        guard !orderIDs.isEmpty else { return }
        try connection.execute(
            """
            INSERT INTO order_items (order_id, position, sku, quantity, unit_price, category)
            SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::integer[], $5::numeric[], $6::text[])
            """,
            [orderIDs, positions, skus, quantities, prices, categories],
            prepared: true
        )
    }

    /// Writes the `order.accepted` events of the customers of `written` orders and of `released` refunds.
    static func enqueueEvents(
        into outbox: Outbox,
        on connection: isolated PostgresConnection,
        written: [Row],
        released: [(customer: String, order: String)]
    ) throws {
        // The decoded orders' identifiers are valid already; only the released refunds' come back as text.
        var byCustomer: [Identifier: (orders: [Identifier], latest: Date)] = [:]
        for row in written where !row.held {
            var entry = byCustomer[row.order.customerID] ?? ([], .distantPast)
            entry.orders.append(row.order.orderID)
            entry.latest = max(entry.latest, row.order.occurredAt.date)
            byCustomer[row.order.customerID] = entry
        }
        for (customer, order) in released {
            byCustomer[try Identifier(customer), default: ([], .distantPast)].orders.append(try Identifier(order))
        }
        // Every customer of the transaction in one message (more past the size limits), ids numbered from one random
        // id per transaction.
        let customers = byCustomer.sorted(by: { $0.key < $1.key }).map { customer, entry in
            OrderAcceptedEvents.Customer(
                customerID: customer,
                orderIDs: entry.orders,
                occurredAt: Timestamp(entry.latest == .distantPast ? Date() : entry.latest)
            )
        }
        let transaction = MessageID.random()
        let messages = try OrderAcceptedEvents.packed(customers).enumerated().map { number, events in
            OutboundMessage(
                exchange: Topology.eventsExchange,
                routingKey: Topology.EventKey.orderAccepted,
                body: try events.encodedBody(),
                messageID: "\(transaction)/\(number)"
            )
        }
        try outbox.enqueue(messages, on: connection)
    }
}

extension OrderBatchWriter.Row {
    /// The amount in the base currency, to 4 decimals.
    var baseAmount: Decimal { (order.amount.decimal * rate).rounded(scale: 4) }
    var baseCost: Decimal? { order.cost.map { ($0.decimal * rate).rounded(scale: 4) } }
}
