import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMRuntime
import CRMSupport
import Foundation
import TestSupport
import Testing

@testable import Intake

/// The refunds of a purchase never add up to more than it, whatever order, batches or replicas they come in; a held
/// refund that can never apply is dead-lettered when its purchase arrives; amounts beyond intake's maximum are refused.
@Suite("Intake refunds and limits")
struct IntakeRefundTests {
    static func handler(_ pool: PostgresPool) -> OrderIntakeHandler {
        OrderIntakeHandler(pool: pool, outbox: Outbox(of: .intake), baseCurrency: "USD")
    }

    static func messages(_ bodies: [Data]) -> [InboundMessage] { bodies.map { InboundMessage(body: $0) } }

    static func net(_ environment: TestEnvironment, customer: String) async throws -> Decimal {
        try await environment.pool.query(
            """
            SELECT coalesce(sum(CASE kind WHEN 'purchase' THEN amount_base ELSE -amount_base END), 0)
            FROM orders WHERE customer_id = $1 AND NOT held
            """,
            [customer]
        )[0].decode(0)
    }

    static let exceeding = MessageRejection(
        .invalidValue,
        field: "amount",
        "with the refunds already applied, more than the original order"
    )

    @Test func refundsOfAPurchaseNeverAddUpToMoreThanItAcrossBatches() async throws {
        try await TestServers.withEnvironment { environment in
            let handler = Self.handler(environment.pool)
            let order = IntakeHarness.order
            #expect(
                try await handler.handle(
                    Self.messages([
                        order("P-1", "C-1", "100.00", "USD", "purchase", nil, ""),
                        order("R-1", "C-1", "80.00", "USD", "refund", "P-1", ""),
                    ])
                ) == [.processed, .processed]
            )
            let later = try await handler.handle(
                Self.messages([
                    order("R-2", "C-1", "80.00", "USD", "refund", "P-1", ""),
                    order("R-3", "C-1", "100.00", "USD", "refund", "P-1", ""),
                    order("R-4", "C-1", "20.00", "USD", "refund", "P-1", ""),
                ])
            )
            #expect(later == [.deadLetter(Self.exceeding), .deadLetter(Self.exceeding), .processed])
            // Within one batch too, in the batch's order; a redelivered refund is not counted twice.
            let same = try await handler.handle(
                Self.messages([
                    order("Q-1", "C-2", "100.00", "USD", "purchase", nil, ""),
                    order("S-1", "C-2", "60.00", "USD", "refund", "Q-1", ""),
                    order("S-1", "C-2", "60.00", "USD", "refund", "Q-1", ""),
                    order("S-2", "C-2", "60.00", "USD", "refund", "Q-1", ""),
                    order("S-3", "C-2", "40.00", "USD", "refund", "Q-1", ""),
                ])
            )
            #expect(same == [.processed, .processed, .processed, .deadLetter(Self.exceeding), .processed])
            #expect(
                try await handler.handle(Self.messages([order("S-1", "C-2", "60.00", "USD", "refund", "Q-1", "")])) == [
                    .processed
                ]
            )
            #expect(try await Self.net(environment, customer: "C-1") == 0)
            #expect(try await Self.net(environment, customer: "C-2") == 0)
        }
    }

    /// Two replicas storing refunds of the same purchase at the same moment: the purchase's row is locked, so the
    /// second sees the first's refund and refuses its own.
    @Test func replicasRacingOnOnePurchaseStoreAtMostItsAmount() async throws {
        try await TestServers.withEnvironment { environment in
            let purchases = 20
            let first = Self.handler(environment.pool)
            let bodies = (0..<purchases).map { IntakeHarness.order("P-\($0)", customer: "C-\($0)", amount: "100.00") }
            #expect(try await first.handle(Self.messages(bodies)).allSatisfy { $0 == .processed })
            let pools = (0..<2).map { replica in
                PostgresPool(
                    url: environment.database.url,
                    size: 2,
                    applicationName: "r\(replica)",
                    logger: TestServers.logger
                )
            }
            // Each replica refunds 70 of every purchase, in batches of one purchase each, all at once.
            let verdicts = try await withThrowingTaskGroup(of: [MessageDisposition].self) { group in
                for (replica, pool) in pools.enumerated() {
                    for purchase in 0..<purchases {
                        group.addTask {
                            try await Self.handler(pool).handle(
                                Self.messages([
                                    IntakeHarness.order(
                                        "R-\(replica)-\(purchase)",
                                        customer: "C-\(purchase)",
                                        amount: "70.00",
                                        kind: "refund",
                                        original: "P-\(purchase)"
                                    )
                                ])
                            )
                        }
                    }
                }
                var all: [MessageDisposition] = []
                for try await verdict in group { all += verdict }
                return all
            }
            for pool in pools { await pool.close() }
            #expect(verdicts.filter { $0 == .processed }.count == purchases)
            #expect(verdicts.filter { $0 == .deadLetter(Self.exceeding) }.count == purchases)
            let over = try await environment.pool.query(
                """
                SELECT count(*) FROM orders p
                WHERE p.kind = 'purchase' AND p.amount_base
                    < (SELECT coalesce(sum(r.amount_base), 0) FROM orders r WHERE r.original_order_id = p.order_id)
                """
            )
            #expect(try over[0].decode(0, as: Int.self) == 0)
        }
    }

    /// Held refunds that can never apply are dead-lettered when their purchase arrives (through the outbox, with the
    /// reason and their body as received); a refund of a refund in the same batch is refused at once.
    @Test func aHeldRefundThatCanNeverApplyIsDeadLetteredWhenItsPurchaseArrives() async throws {
        try await TestServers.withEnvironment { environment in
            let order = IntakeHarness.order
            let publisher = IntakeHarness.publisher(environment)
            let refundOfRefund = try await Self.handler(environment.pool).handle(
                Self.messages([
                    order("X-1", "C-1", "5.00", "USD", "refund", "P-9", ""),
                    order("X-2", "C-1", "5.00", "USD", "refund", "X-1", ""),
                ])
            )
            #expect(
                refundOfRefund[1]
                    == .deadLetter(
                        MessageRejection(
                            .invalidValue,
                            field: "original_order_id",
                            "refers to a refund, not a purchase"
                        )
                    )
            )
            try await IntakeHarness.publish(
                [
                    // Held refunds apply in time order, then by id: H-1 first, then X-1 would exceed the purchase.
                    order("H-1", "C-1", "18.00", "USD", "refund", "P-9", ""),
                    order("H-2", "C-2", "1.00", "USD", "refund", "P-9", ""),  // another customer's
                ],
                with: publisher
            )
            let letters = try await IntakeHarness.whileRunning(environment) {
                _ = try await eventually {
                    try await environment.pool.query("SELECT count(*) FROM orders WHERE held")[0].decode(
                        0,
                        as: Int.self
                    )
                        == 3
                }
                try await IntakeHarness.publish(
                    [order("P-9", "C-1", "20.00", "USD", "purchase", nil, "")],
                    with: publisher
                )
                return try await IntakeHarness.deadLetters(environment, expecting: 2)
            }
            #expect(
                letters.keys.sorted() == [
                    "amount: with the refunds already applied, more than the original order",
                    "original_order_id: refers to another customer's order",
                ]
            )
            let all = letters.values.flatMap { $0 }
            #expect(Set(all.compactMap(\.messageID)) == ["X-1/refused", "H-2/refused"])
            let h2 = try #require(all.first { $0.messageID == "H-2/refused" })
            #expect(h2.body == order("H-2", "C-2", "1.00", "USD", "refund", "P-9", ""))
            #expect(h2.headers["x-crm-original-exchange"]?.stringValue == Topology.ordersExchange)
            let left = try await environment.pool.query("SELECT order_id, held FROM orders WHERE kind = 'refund'")
            #expect(left.map { [$0[0], $0[1]] } == [["H-1", "f"]])
            #expect(try await environment.pool.query("SELECT count(*) FROM held_refunds")[0][0] == "0")
            #expect(try await Self.net(environment, customer: "C-1") == 2)
            await publisher.close()
        }
    }

    /// A refund stored held in the very moment its purchase committed on another replica is settled by the sweep.
    @Test func theSweepSettlesAHeldRefundWhosePurchaseIsStored() async throws {
        try await TestServers.withEnvironment { environment in
            let handler = Self.handler(environment.pool)
            let order = IntakeHarness.order
            _ = try await handler.handle(Self.messages([order("P-1", "C-1", "50.00", "USD", "purchase", nil, "")]))
            try await environment.pool.execute(
                """
                INSERT INTO orders (order_id, customer_id, kind, original_order_id, occurred_at, amount, currency,
                                    amount_base, held, content_hash)
                VALUES ('R-1', 'C-1', 'refund', 'P-1', now(), 10, 'USD', 10, true, 'x'),
                       ('R-2', 'C-1', 'refund', 'P-1', now(), 45, 'USD', 45, true, 'y')
                """
            )
            try await environment.pool.execute("INSERT INTO held_refunds VALUES ('R-1', '{}'), ('R-2', '{}')")
            let sweep = HeldRefundSweep(
                pool: environment.pool,
                outbox: Outbox(of: .intake),
                interval: .seconds(60),
                logger: TestServers.logger
            )
            let outcome = try await sweep.sweepOnce()
            #expect(outcome.released.map(\.order) == ["R-1"])
            #expect(outcome.refused == 1)
            #expect(try await Self.net(environment, customer: "C-1") == 40)
            let outbox = try await environment.pool.query(
                "SELECT exchange, routing_key, headers->>'x-crm-error' FROM crm_outbox ORDER BY id"
            )
            // P-1's event, then R-2's dead letter and R-1's event, written by the sweep.
            #expect(outbox.map { $0[0] } == ["crm.events", "crm.dead", "crm.events"])
            #expect(outbox[1][2] == "amount: with the refunds already applied, more than the original order")
        }
    }

    @Test func anAmountBeyondTheMaximumIsDeadLettered() async throws {
        try await TestServers.withEnvironment { environment in
            try await environment.pool.execute("INSERT INTO fx_rates (currency, rate_to_base) VALUES ('KWD', 4)")
            let handler = OrderIntakeHandler(
                pool: environment.pool,
                outbox: Outbox(of: .intake),
                baseCurrency: "USD",
                maximumAmount: 1_000_000_000
            )
            let order = IntakeHarness.order
            let verdicts = try await handler.handle(
                Self.messages([
                    order("M-1", "C-1", "1000000000.00", "USD", "purchase", nil, ""),
                    order("M-2", "C-1", "1000000000.01", "USD", "purchase", nil, ""),
                    order("M-3", "C-1", "999999999999999.9999", "USD", "purchase", nil, ""),
                    order("M-4", "C-1", "250000001", "KWD", "purchase", nil, ""),
                    order("M-5", "C-1", "1.00", "USD", "purchase", nil, #","cost":"1000000001""#),
                ])
            )
            let limit = "larger than the maximum of 1000000000 USD an order may have"
            #expect(
                verdicts == [
                    .processed, .deadLetter(MessageRejection(.invalidValue, field: "amount", limit)),
                    .deadLetter(MessageRejection(.invalidValue, field: "amount", limit)),
                    .deadLetter(MessageRejection(.invalidValue, field: "amount", limit)),
                    .deadLetter(MessageRejection(.invalidValue, field: "cost", limit)),
                ]
            )
        }
    }

    /// Years 0000 and 0001 are RFC 3339 but not PostgreSQL's; 9999 would be stored and never counted. Both are refused
    /// as the batch is decoded, so the rest of the batch is stored in one transaction as usual.
    @Test func ordersDatedBefore1900OrAheadOfTheirReceiptAreDeadLettered() async throws {
        try await TestServers.withEnvironment { environment in
            let handler = Self.handler(environment.pool)
            var bodies = (0..<3_000).map { IntakeHarness.order("D-\($0)", customer: "C-\($0 % 300)") }
            let odd = [
                "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "0001-06-01T00:00:00Z", "1899-12-31T23:59:59Z",
                "9999-12-31T23:59:59Z", "9999-01-01T00:00:00Z",
            ]
            for (offset, time) in odd.enumerated() {
                bodies[offset * 500] = Data(
                    String(decoding: bodies[offset * 500], as: UTF8.self)
                        .replacingOccurrences(of: "2026-11-20T10:15:00+08:00", with: time).utf8
                )
            }
            bodies[2_999] = Data(
                String(decoding: bodies[2_999], as: UTF8.self)
                    .replacingOccurrences(
                        of: "2026-11-20T10:15:00+08:00",
                        with: Timestamp(Date().addingTimeInterval(2 * 86_400)).rfc3339
                    ).utf8
            )
            let verdicts = try await handler.handle(Self.messages(bodies))
            let dead = verdicts.enumerated().compactMap { index, verdict -> (Int, String)? in
                guard case .deadLetter(let rejection) = verdict else { return nil }
                return (index, rejection.reason)
            }
            #expect(dead.map(\.0) == [0, 500, 1_000, 1_500, 2_000, 2_500, 2_999])
            #expect(dead.prefix(4).allSatisfy { $0.1 == "occurred_at: before 1900-01-01T00:00:00Z" }, "\(dead)")
            #expect(dead.suffix(3).allSatisfy { $0.1 == "occurred_at: more than a day after it was received" })
            #expect(try await environment.pool.query("SELECT count(*) FROM orders")[0][0] == "2993")
        }
    }

    /// An order id that looks like a stored one but hides a zero-width character is refused, not stored beside it.
    @Test func idsWithInvisibleCharactersAreRefused() async throws {
        try await TestServers.withEnvironment { environment in
            let order = IntakeHarness.order
            let verdicts = try await Self.handler(environment.pool).handle(
                Self.messages([
                    order("A-1", "C-1", "10.00", "USD", "purchase", nil, ""),
                    order("A\u{200B}-1", "C-1", "10.00", "USD", "purchase", nil, ""),
                    order("A-2", "C\u{2060}-1", "10.00", "USD", "purchase", nil, ""),
                ])
            )
            #expect(
                verdicts == [
                    .processed,
                    .deadLetter(
                        MessageRejection(.invalidValue, field: "order_id", "contains an invisible character (U+200B)")
                    ),
                    .deadLetter(
                        MessageRejection(
                            .invalidValue,
                            field: "customer_id",
                            "contains an invisible character (U+2060)"
                        )
                    ),
                ]
            )
            #expect(try await environment.pool.query("SELECT count(*) FROM orders")[0][0] == "1")
            #expect(try await environment.pool.query("SELECT count(*) FROM customers")[0][0] == "1")
        }
    }
}
