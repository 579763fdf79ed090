import CRMAMQP
import CRMContract
import CRMOutbox
import CRMRuntime
import CRMSupport
import Foundation
import TestSupport
import Testing

@testable import Intake

@Suite("Intake")
struct IntakeTests {
    @Test func cdnowSampleWithDuplicatesAndShuffleGivesExactTotals() async throws {
        try await TestServers.withEnvironment { environment in
            let (_, bodies) = try OrderFile.bodies(
                of: IntakeHarness.fixtures.appendingPathComponent("CDNOW_sample.txt")
            )
            #expect(bodies.count == 6919)
            var expected: [String: (count: Int, total: Decimal)] = [:]
            for body in bodies {
                let order = try OrderMessage.decode(body: body)
                var entry = expected[order.customerID.rawValue] ?? (0, 0)
                entry.count += 1
                entry.total += order.amount.decimal
                expected[order.customerID.rawValue] = entry
            }
            var generator = SystemRandomNumberGenerator()
            let stream = (bodies + (0..<1500).map { _ in bodies.randomElement(using: &generator)! }).shuffled()
            let publisher = IntakeHarness.publisher(environment)
            try await IntakeHarness.publish(stream, with: publisher)
            let stored = try await IntakeHarness.whileRunning(environment) {
                try await eventually {
                    let count = try await environment.pool.query("SELECT count(*) FROM orders")[0].decode(
                        0,
                        as: Int.self
                    )
                    let waiting = try await publisher.inspectQueue(Topology.intakeQueue).messages
                    return count == 6919 && waiting == 0
                }
            }
            #expect(stored)
            let rows = try await environment.pool.query(
                "SELECT customer_id, count(*), sum(amount_base) FROM orders WHERE NOT held GROUP BY customer_id"
            )
            #expect(rows.count == expected.count)
            for row in rows {
                let customer: String = try row.decode(0)
                #expect(try row.decode(1, as: Int.self) == expected[customer]?.count, "\(customer)")
                #expect(try row.decode(2, as: Decimal.self) == expected[customer]?.total, "\(customer)")
            }
            let events = try await environment.pool.query("SELECT count(*) FROM crm_outbox WHERE source = 'intake'")
            #expect(try events[0].decode(0, as: Int.self) >= 1)
            await publisher.close()
        }
    }

    @Test func invalidMessagesAreDeadLetteredWithReasonsAndNeighboursStored() async throws {
        let bad: [(body: Data, reason: String)] = [
            (IntakeHarness.order("B-1", amount: "-5"), "amount: negative"),
            (
                Data(
                    #"{"schema":"order.v1","order_id":"B-2","customer_id":"C-1","occurred_at":"yesterday","amount":"1","currency":"USD"}"#
                        .utf8
                ), "occurred_at"
            ),
            (IntakeHarness.order("B-3", currency: "XYZ"), "currency"),
            (IntakeHarness.order("B-4", amount: "1.00001"), "amount"),
            (Data(#"{"schema":"order.v9","order_id":"B-5"}"#.utf8), "schema"),
            (
                Data(
                    #"{"schema":"order.v1","customer_id":"C-1","occurred_at":"2026-11-20T10:15:00Z","amount":"1","currency":"USD"}"#
                        .utf8
                ), "order_id: missing"
            ),
            (Data("not json".utf8), "body"),
            (Data([0xff, 0xfe, 0x00]), "body"),
            (Data(repeating: 0x20, count: 300_000), "body"),
            (IntakeHarness.order(String(repeating: "x", count: 200)), "order_id"),
            (IntakeHarness.order("B-7", currency: "CNY"), "currency: no exchange rate from CNY to USD"),
            (IntakeHarness.order("B-8", kind: "refund"), "original_order_id"),
        ]
        try await TestServers.withEnvironment { environment in
            var stream: [Data] = []
            for (index, item) in bad.enumerated() {
                stream.append(IntakeHarness.order("G-\(index)", customer: "C-\(index)"))
                stream.append(item.body)
            }
            stream.append(IntakeHarness.order("G-last"))
            let publisher = IntakeHarness.publisher(environment)
            try await IntakeHarness.publish(stream, with: publisher)
            let done = try await IntakeHarness.whileRunning(environment) {
                try await eventually {
                    let count = try await environment.pool.query("SELECT count(*) FROM orders")[0].decode(
                        0,
                        as: Int.self
                    )
                    let waiting = try await publisher.inspectQueue(Topology.intakeQueue).messages
                    return count == bad.count + 1 && waiting == 0
                }
            }
            #expect(done)
            let letters = try await IntakeHarness.deadLetters(environment, expecting: bad.count)
            #expect(letters.values.map(\.count).reduce(0, +) == bad.count)
            for item in bad {
                let matching = letters.first { reason, messages in
                    reason.hasPrefix(item.reason) && messages.contains { $0.body == item.body }
                }
                #expect(
                    matching != nil,
                    "no dead letter starting with \"\(item.reason)\"; got \(letters.keys.sorted())"
                )
            }
            await publisher.close()
        }
    }

    @Test func conflictingDuplicateIsDeadLetteredAndTheFirstStands() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = IntakeHarness.publisher(environment)
            // The same content written differently is a harmless redelivery.
            let first = IntakeHarness.order("A-1", amount: "129.90")
            let same = IntakeHarness.order("A-1", amount: "129.9")
            let other = IntakeHarness.order("A-1", amount: "99.00")
            try await IntakeHarness.publish([first, same], with: publisher)
            try await IntakeHarness.publish([other], with: publisher)
            let letters = try await IntakeHarness.whileRunning(environment) {
                try await IntakeHarness.deadLetters(environment, expecting: 1)
            }
            #expect(letters.count == 1)
            #expect(letters.keys.first?.hasPrefix("order_id: already stored with different content") == true)
            #expect(letters.values.first?.first?.body == other)
            let rows = try await environment.pool.query("SELECT amount FROM orders WHERE order_id = 'A-1'")
            #expect(try rows.map { try $0.decode(0, as: Decimal.self) } == [Decimal(string: "129.9")!])
            await publisher.close()
        }
    }

    /// A check an order passed when it was stored does not turn its redelivery into a dead letter: the rate of its
    /// currency removed since, or its refund now judged against the stored purchase.
    @Test func aRedeliveryStaysADuplicateAfterItsRateIsRemoved() async throws {
        try await TestServers.withEnvironment { environment in
            try await environment.pool.execute("INSERT INTO fx_rates (currency, rate_to_base) VALUES ('EUR', 1.10)")
            let handler = OrderIntakeHandler(pool: environment.pool, outbox: Outbox(of: .intake), baseCurrency: "USD")
            let stored = IntakeHarness.order("F-1", amount: "20.00", currency: "EUR")
            let refund = IntakeHarness.order("F-2", amount: "5.00", currency: "EUR", kind: "refund", original: "F-1")
            #expect(
                try await handler.handle([stored, refund].map { InboundMessage(body: $0) }) == [.processed, .processed]
            )
            try await environment.pool.execute("DELETE FROM fx_rates WHERE currency = 'EUR'")
            let changed = IntakeHarness.order("F-1", amount: "25.00", currency: "EUR")
            let new = IntakeHarness.order("F-3", amount: "1.00", currency: "EUR")
            let dispositions = try await handler.handle(
                [stored, refund, changed, new].map { InboundMessage(body: $0) }
            )
            #expect(dispositions[0] == .processed)
            #expect(dispositions[1] == .processed)
            #expect(dispositions[2] == .deadLetter(OrderBatchWriter.conflict))
            #expect(
                dispositions[3]
                    == .deadLetter(
                        MessageRejection(
                            .invalidValue,
                            field: "currency",
                            "no exchange rate from EUR to USD; set one with `crm fx set`"
                        )
                    )
            )
            let total = try await environment.pool.query(
                "SELECT count(*), sum(CASE kind WHEN 'purchase' THEN amount_base ELSE -amount_base END) FROM orders"
            )
            #expect(try total[0].decode(0, as: Int.self) == 2)
            #expect(try total[0].decode(1, as: Decimal.self) == Decimal(string: "16.5")!)
        }
    }

    @Test func refundsWaitForTheirPurchaseAndForeignCurrencyConverts() async throws {
        try await TestServers.withEnvironment { environment in
            try await environment.pool.execute("INSERT INTO fx_rates (currency, rate_to_base) VALUES ('CNY', 0.14)")
            let publisher = IntakeHarness.publisher(environment)
            // The refund arrives before its purchase; a second refund names another customer's order.
            try await IntakeHarness.publish(
                [
                    IntakeHarness.order(
                        "R-1",
                        customer: "C-7",
                        amount: "30.00",
                        currency: "CNY",
                        kind: "refund",
                        original: "P-1"
                    )
                ],
                with: publisher
            )
            let held = try await IntakeHarness.whileRunning(environment) {
                try await eventually {
                    (try? await environment.pool.query("SELECT held FROM orders WHERE order_id = 'R-1'").first?.decode(
                        0,
                        as: Bool.self
                    )) == true
                }
            }
            #expect(held)
            try await IntakeHarness.publish(
                [
                    IntakeHarness.order("P-1", customer: "C-7", amount: "100.00", currency: "CNY"),
                    IntakeHarness.order("R-2", customer: "C-8", amount: "1.00", kind: "refund", original: "P-1"),
                ],
                with: publisher
            )
            let letters = try await IntakeHarness.whileRunning(environment) {
                try await IntakeHarness.deadLetters(environment, expecting: 1)
            }
            #expect(letters.keys.contains("original_order_id: refers to another customer's order"))
            let value = try await environment.pool.query(
                """
                SELECT sum(CASE kind WHEN 'purchase' THEN amount_base ELSE -amount_base END), bool_or(held)
                FROM orders WHERE customer_id = 'C-7'
                """
            )
            #expect(try value[0].decode(0, as: Decimal.self) == Decimal(string: "9.8")!)
            #expect(try value[0].decode(1, as: Bool.self) == false)
            await publisher.close()
        }
    }
}
