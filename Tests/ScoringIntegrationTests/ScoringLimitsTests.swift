import CRMAMQP
import CRMContract
import CRMOutbox
import CRMRuntime
import CRMSupport
import Foundation
import Scoring
import TestSupport
import Testing

/// Orders stored before intake's limits (or by hand) with amounts as large as a message may carry: one customer's
/// figures never stop the scoring of the others, and no sum overflows a column.
@Suite("Scoring with extreme amounts")
struct ScoringLimitsTests {
    /// Orders written as intake stores them but past its limit, as an older intake would have.
    static func storeRaw(
        _ orders: [(id: String, customer: String, at: String, amount: String)],
        _ environment: TestEnvironment
    ) async throws {
        try await environment.pool.execute(
            "INSERT INTO customers (customer_id) SELECT DISTINCT unnest($1::text[]) ON CONFLICT DO NOTHING",
            [orders.map(\.customer)]
        )
        try await environment.pool.execute(
            """
            INSERT INTO orders (order_id, customer_id, kind, occurred_at, amount, currency, amount_base, content_hash)
            SELECT id, c, 'purchase', at, a, 'USD', a, 'x'
            FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::numeric[]) AS t(id, c, at, a)
            """,
            [
                orders.map(\.id), orders.map(\.customer), orders.map { try! Timestamp(rfc3339: $0.at).date },
                orders.map(\.amount),
            ]
        )
    }

    @Test func twoHugePurchasesNeitherOverflowNorStopTheOthers() async throws {
        try await TestServers.withEnvironment { environment in
            var orders: [(id: String, customer: String, at: String, amount: String)] = [
                ("BIG-1", "C-BIG", "2026-01-05T10:00:00Z", "999999999999999.9999"),
                ("BIG-2", "C-BIG", "2026-02-05T10:00:00Z", "999999999999999.9999"),
            ]
            for customer in 0..<40 {
                for visit in 0..<(1 + customer % 4) {
                    orders.append(
                        (
                            "O-\(customer)-\(visit)", "C-\(customer)",
                            "2026-0\(1 + visit)-\(10 + customer % 15)T10:00:00Z", "\(10 + customer).50"
                        )
                    )
                }
            }
            try await Self.storeRaw(orders, environment)
            let rescoring = ScoringHarness.rescoring(environment.pool)
            let asOf = try Timestamp(rfc3339: "2026-06-30T00:00:00Z").date
            let report = try await rescoring.run(asOf: asOf)
            #expect(report.customers == 41)
            #expect(report.written == 41)
            #expect(report.unscored.isEmpty)
            let big = try await environment.pool.query(
                "SELECT monetary_total, clv_historical FROM customer_scores WHERE customer_id = 'C-BIG'"
            )
            #expect(try big[0].decode(0, as: Decimal.self) > Decimal(string: "1999999999999990")!)
            // The incremental scoring of a batch naming it and innocent customers goes through as well.
            let incremental = IncrementalScoring(
                pool: environment.pool,
                outbox: Outbox(of: .scoring),
                settings: ScoringConfiguration(),
                logger: TestServers.logger
            )
            try await incremental.rescore(customers: ["C-BIG", "C-1", "C-2", "C-3", "C-4"], asOf: asOf)
            let scored = try await environment.pool.query(
                "SELECT count(*) FROM customer_scores WHERE customer_id = ANY($1) AND scored_at = $2",
                [["C-BIG", "C-1", "C-2", "C-3", "C-4"], asOf]
            )
            #expect(try scored[0].decode(0, as: Int.self) == 5)
        }
    }
}

/// crm-scoring with its own accounts takes `order.accepted` only from `crm_intake`'s account.
@Suite("Scoring trusts only intake's events")
struct ScoringTrustTests {
    @Test func anOrderAcceptedEventFromAnotherAccountIsDeadLettered() async throws {
        try await TestServers.withEnvironment { environment in
            try await environment.grantServiceAccounts()
            try await ScoringHarness.store(
                [ScoringHarness.order("O-1", customer: "C-1", at: "2026-11-20T10:00:00Z", amount: "10.00")],
                pool: environment.pool
            )
            try await environment.pool.execute("DELETE FROM crm_outbox")
            let event = try OrderAcceptedEvents(customers: [
                .init(
                    customerID: try Identifier("C-1"),
                    orderIDs: [try Identifier("O-1")],
                    occurredAt: try Timestamp(rfc3339: "2026-11-20T10:00:00Z")
                )
            ]).encodedBody()
            let message = OutboundMessage(
                exchange: Topology.eventsExchange,
                routingKey: Topology.EventKey.orderAccepted,
                body: event
            )
            // A model and a first score first, so the service's schedule has no full rescoring to run: the only
            // thing that may score C-1 again is an event the service trusts.
            _ = try await FullRescoring(
                pool: environment.pool,
                outbox: Outbox(of: .scoring),
                settings: ScoringConfiguration(),
                logger: TestServers.logger
            ).run()
            let scoredAt = "SELECT scored_at FROM customer_scores WHERE customer_id = 'C-1'"
            let first: Date = try await environment.pool.query(scoredAt)[0].decode(0)
            let settings = try environment.serviceVariables(as: .scoring)
            let (letter, afterForgery, rescored) = try await ScoringHarness.whileScoring(
                environment,
                settings: settings
            ) { _ in
                let administrator = AMQPPublisher(
                    settings: environment.amqp,
                    name: "forger",
                    logger: TestServers.logger
                )
                try await administrator.publish(message)
                let dead = AMQPConsumer(
                    settings: environment.amqp,
                    queue: "scoring.events.dead",
                    prefetch: 10,
                    logger: TestServers.logger
                )
                let letters = try await dead.nextBatch(maxCount: 1, wait: .seconds(20), linger: .zero)
                await dead.close()
                let afterForgery: Date = try await environment.pool.query(scoredAt)[0].decode(0)
                let intake = AMQPPublisher(
                    settings: try environment.amqp(as: .intake),
                    name: "intake",
                    logger: TestServers.logger
                )
                try await intake.publish(message)
                let rescored = try await eventually {
                    try await environment.pool.query(scoredAt)[0].decode(0, as: Date.self) > first
                }
                await administrator.close()
                await intake.close()
                return (letters.first, afterForgery, rescored)
            }
            #expect(afterForgery == first, "the forged event rescored the customer")
            #expect(rescored)
            #expect(
                letter?.headers[Topology.errorHeader]?.stringValue
                    == "user_id: published by \"\(environment.amqp.user)\"; order.accepted is taken only from crm_intake"
            )
        }
    }
}
