import CRMAMQP
import CRMContract
import CRMOutbox
import CRMRuntime
import CRMSupport
import Foundation
import Scoring
import TestSupport
import Testing

/// Incremental scoring through the broker: intake's `order.accepted` events in, `customer.scored` events out.
@Suite struct IncrementalScoringTests {
    /// A lapsed CDNOW customer buys again today: scoring hears of it within the second, moves the customer from
    /// termination to recovery, keeps the change in the history and announces it. A repeated event changes nothing.
    @Test func aPurchaseAfterTerminationIsARecoveryAndRepeatsAreNoOps() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            _ = try await ScoringHarness.storeCDNOW("CDNOW_sample.txt", pool: environment.pool)
            // Nothing of intake's events from the load matters here: scoring starts after a full rescoring.
            try await environment.pool.execute("DELETE FROM crm_outbox")
            let rescoring = ScoringHarness.rescoring(environment.pool)
            _ = try await rescoring.run()
            try await environment.pool.execute("DELETE FROM crm_outbox")
            let before = try #require(try await ScoringHarness.customer("00004", pool: environment.pool))
            #expect(before["lifecycle_stage"] as? String == "termination")

            let observer = AMQPConsumer(
                settings: environment.amqp,
                queue: Topology.alertEventsQueue,
                prefetch: 100,
                topology: Topology.system(desks: []),
                logger: TestServers.logger
            )
            _ = try await observer.nextBatch(maxCount: 1, wait: .milliseconds(100), linger: .zero)

            try await ScoringHarness.whileScoring(environment) { context in
                let now = Timestamp(Date()).rfc3339
                try await ScoringHarness.store(
                    [ScoringHarness.order("NEW-1", customer: "00004", at: now, amount: "42.00")],
                    pool: environment.pool
                )
                let intakeRelay = OutboxRelay(
                    source: "intake",
                    pool: environment.pool,
                    publisher: context.publisher,
                    logger: TestServers.logger
                )
                #expect(try await intakeRelay.relayOnce() == 1)

                let recovered = try await eventually {
                    try await ScoringHarness.customer("00004", pool: environment.pool)?["lifecycle_stage"] as? String
                        == "recovery"
                }
                #expect(recovered)
                // `alerts.events` also hears order.accepted (retention outcomes): only customer.scored counts here.
                func announced(_ batch: [InboundMessage]) -> [InboundMessage] {
                    batch.filter { $0.routingKey == Topology.EventKey.customerScored }
                }
                let delivered = try await observer.nextBatch(
                    maxCount: 10,
                    wait: .seconds(10),
                    linger: .milliseconds(200)
                )
                let scored = announced(delivered)
                #expect(scored.count == 1)
                let event = try CustomerScoredEvent.decode(body: try #require(scored.first).body)
                #expect(event.customerID.rawValue == "00004")
                #expect(event.previousLifecycleStage == .termination)
                #expect(event.customer.lifecycleStage == .recovery)
                #expect(event.customer.ordersCount == 5)
                try await observer.acknowledge(upTo: delivered.last!)

                // The same event again, out of order after the fact: the score does not move, nothing is announced.
                let repeated = OrderAcceptedEvent(
                    customerID: try Identifier("00004"),
                    orderIDs: [try Identifier("NEW-1")],
                    occurredAt: Timestamp(Date())
                )
                try await context.publisher.publish([
                    OutboundMessage(
                        exchange: Topology.eventsExchange,
                        routingKey: Topology.EventKey.orderAccepted,
                        body: try repeated.encodedBody()
                    )
                ])
                let quiet = try await observer.nextBatch(maxCount: 10, wait: .seconds(2), linger: .milliseconds(100))
                #expect(announced(quiet).isEmpty)
            }
            let after = try #require(try await ScoringHarness.customer("00004", pool: environment.pool))
            let history = try #require(after["history"] as? [[String: Any]])
            #expect(history.map { $0["lifecycle_stage"] as? String } == ["termination", "recovery"])
            #expect(after["orders_count"] as? Int == 5)
            await observer.close()
        }
    }

    /// An event that is not an order.accepted event is dead-lettered with its reason; the rest, of either version,
    /// are scored.
    @Test func anInvalidEventIsDeadLetteredAndTheRestFlowOn() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            try await ScoringHarness.store(
                [
                    ScoringHarness.order("O-1", customer: "B", at: "2026-01-05T09:00:00Z", amount: "10.00"),
                    ScoringHarness.order("O-2", customer: "E", at: "2026-01-06T09:00:00Z", amount: "12.00"),
                    ScoringHarness.order("O-3", customer: "F", at: "2026-01-07T09:00:00Z", amount: "14.00"),
                ],
                pool: environment.pool
            )
            try await environment.pool.execute("DELETE FROM crm_outbox")
            try await ScoringHarness.whileScoring(environment) { context in
                let valid = OrderAcceptedEvent(
                    customerID: try Identifier("B"),
                    orderIDs: [try Identifier("O-1")],
                    occurredAt: Timestamp(Date())
                )
                try await context.publisher.publish([
                    OutboundMessage(
                        exchange: Topology.eventsExchange,
                        routingKey: Topology.EventKey.orderAccepted,
                        body: Data(#"{"schema":"order.accepted.v1","customer_id":"B"}"#.utf8)
                    ),
                    OutboundMessage(
                        exchange: Topology.eventsExchange,
                        routingKey: Topology.EventKey.orderAccepted,
                        body: try valid.encodedBody()
                    ),
                    OutboundMessage(
                        exchange: Topology.eventsExchange,
                        routingKey: Topology.EventKey.orderAccepted,
                        body: try OrderAcceptedEvents(customers: [
                            .init(
                                customerID: Identifier("E"),
                                orderIDs: [Identifier("O-2")],
                                occurredAt: Timestamp(Date())
                            ),
                            .init(
                                customerID: Identifier("F"),
                                orderIDs: [Identifier("O-3")],
                                occurredAt: Timestamp(Date())
                            ),
                        ]).encodedBody()
                    ),
                ])
                let scored = try await eventually {
                    var all = true
                    for customer in ["B", "E", "F"]
                    where try await ScoringHarness.customer(customer, pool: environment.pool) == nil {
                        all = false
                    }
                    return all
                }
                #expect(scored)
                let dead = AMQPConsumer(
                    settings: environment.amqp,
                    queue: "scoring.events.dead",
                    prefetch: 10,
                    logger: TestServers.logger
                )
                let letters = try await dead.nextBatch(maxCount: 10, wait: .seconds(10), linger: .milliseconds(100))
                #expect(letters.count == 1)
                #expect(letters.first?.headers[Topology.errorHeader]?.stringValue?.contains("order_ids") == true)
                await dead.close()
            }
            let customer = try #require(try await ScoringHarness.customer("B", pool: environment.pool))
            // Before any model: historical and plain values, no p_alive, bronze.
            #expect(customer["p_alive"] is NSNull)
            #expect(customer["tier"] as? String == "bronze")
            #expect(customer["lifecycle_stage"] as? String == "development")
        }
    }

    /// While one full rescoring holds the lock (here, another session standing in for a replica), a second is
    /// refused at once; when the lock is free it runs.
    @Test func onlyOneFullRescoringRunsAtATime() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            _ = try await ScoringHarness.storeCDNOW("CDNOW_sample.txt", pool: environment.pool)
            let rescoring = ScoringHarness.rescoring(environment.pool)
            let replica = environment.connection(name: "replica")
            _ = try await replica.query("SELECT pg_advisory_lock($1)", [FullRescoring.lockKey])
            await #expect(throws: ScoringError.self) { try await rescoring.run() }
            _ = try await replica.query("SELECT pg_advisory_unlock($1)", [FullRescoring.lockKey])
            let report = try await rescoring.run()
            #expect(report.written == 2357)
            let models = try await environment.pool.query("SELECT count(*) FROM scoring_models")
            #expect(try models[0].decode(0, as: Int.self) == 1)
            await replica.close()
        }
    }
}
