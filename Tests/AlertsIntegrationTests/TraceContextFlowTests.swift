import CRMAMQP
import CRMContract
import CRMOutbox
import CRMRuntime
import CRMSupport
import Foundation
import Intake
import Scoring
import TestSupport
import Testing

@testable import Alerts

private typealias H = AlertsHarness

/// One order's W3C trace context, followed through the three services as they run: the order published with a
/// `traceparent`, intake's `order.accepted`, scoring's `customer.scored` and the retention alert all carry its trace
/// id, and intake stored it with the order (`crm order ID`).
@Suite("Trace context across services")
struct TraceContextFlowTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/cdnow")

    @Test func anOrdersTraceIdReachesItsEventsScoreAndAlert() async throws {
        try await TestServers.withEnvironment { environment in
            // A customer base with a fitted model: CDNOW as of 1998-06-30, so that today every customer has lapsed.
            let (_, bodies) = try OrderFile.bodies(of: Self.fixtures.appendingPathComponent("CDNOW_master.txt"))
            let handler = OrderIntakeHandler(pool: environment.pool, outbox: Outbox(of: .intake), baseCurrency: "USD")
            for start in stride(from: 0, to: bodies.count, by: 2_000) {
                _ = try await handler.handle(
                    bodies[start..<min(start + 2_000, bodies.count)].map { InboundMessage(body: $0) }
                )
            }
            try await environment.pool.execute("DELETE FROM crm_outbox")
            _ = try await FullRescoring(
                pool: environment.pool,
                outbox: Outbox(of: .scoring),
                settings: ScoringConfiguration(),
                logger: TestServers.logger
            )
            .run(asOf: try Timestamp(rfc3339: "1998-06-30T23:59:59.999Z").date)
            try await environment.pool.execute("DELETE FROM crm_outbox")
            // A gold customer still active in 1998: its next order, dated then, makes today's score a termination.
            let customer: String = try await environment.pool.query(
                """
                SELECT customer_id FROM customer_scores
                WHERE tier = 'gold' AND lifecycle_stage NOT IN ('decline', 'termination')
                ORDER BY clv_predicted DESC, customer_id LIMIT 1
                """
            )[0].decode(0)

            // Taps on what intake and scoring publish.
            let tap = "test.trace.tap"
            try await environment.declare(
                Topology(
                    exchanges: [.init(Topology.eventsExchange)],
                    queues: [
                        .init(
                            tap,
                            bindings: [
                                .init(Topology.eventsExchange, Topology.EventKey.orderAccepted),
                                .init(Topology.eventsExchange, Topology.EventKey.customerScored),
                            ],
                            deadLettered: false
                        )
                    ]
                )
            )
            let trace = TraceContext.newTrace()
            let order = OutboundMessage(
                exchange: Topology.ordersExchange,
                routingKey: "order.v1",
                body: Data(
                    #"{"schema":"order.v1","order_id":"TRACE-1","customer_id":"\#(customer)","occurred_at":"1998-07-01T10:00:00Z","amount":"40.00","currency":"USD"}"#
                        .utf8
                ),
                headers: [
                    TraceContext.parentHeader: .string(trace.traceparent), TraceContext.stateHeader: .string("crm=t1"),
                ]
            )

            let (events, alerts) = try await environment.whileRunning(
                "crm-intake",
                topology: IntakeService.topology,
                parts: IntakeService.parts
            ) { _ in
                try await environment.whileRunning(
                    "crm-scoring",
                    topology: ScoringService.topology,
                    parts: ScoringService.parts
                ) { _ in
                    try await H.whileRunning(environment) {
                        let publisher = AMQPPublisher(
                            settings: environment.amqp,
                            name: "upstream",
                            topology: Topology.intake,
                            logger: TestServers.logger
                        )
                        try await publisher.publish(order)
                        await publisher.close()
                        let consumer = AMQPConsumer(
                            settings: environment.amqp,
                            queue: tap,
                            prefetch: 100,
                            logger: TestServers.logger
                        )
                        var events: [InboundMessage] = []
                        var alerts: [(alert: RetentionAlert, message: InboundMessage)] = []
                        _ = try await eventually {
                            let batch = try await consumer.nextBatch(
                                maxCount: 100,
                                wait: .milliseconds(300),
                                linger: .milliseconds(20)
                            )
                            if let last = batch.last { try await consumer.acknowledge(upTo: last) }
                            events += batch
                            alerts += try await Self.drainAlerts(environment)
                            return events.contains { $0.routingKey == Topology.EventKey.customerScored }
                                && alerts.contains { $0.alert.customerID.rawValue == customer }
                        }
                        await consumer.close()
                        return (events, alerts)
                    }
                }
            }
            let accepted = try #require(events.first { $0.routingKey == Topology.EventKey.orderAccepted })
            let scored = try #require(events.first { $0.routingKey == Topology.EventKey.customerScored })
            #expect(MessageTracing.trace(of: accepted)?.traceID == trace.traceID)
            #expect(MessageTracing.trace(of: scored)?.traceID == trace.traceID)
            // Each hop is a span of its own: the trace id stays, the parent span changes.
            #expect(MessageTracing.trace(of: accepted)?.spanID != trace.spanID)
            #expect(MessageTracing.trace(of: scored)?.spanID != MessageTracing.trace(of: accepted)?.spanID)
            #expect(MessageTracing.trace(of: scored)?.state == "crm=t1")

            // The retention alert, published by alerts' relay from its outbox row, continues the same trace.
            let alert = try #require(alerts.first { $0.alert.customerID.rawValue == customer })
            #expect(MessageTracing.trace(of: alert.message)?.traceID == trace.traceID)
            #expect(MessageTracing.trace(of: alert.message)?.spanID != MessageTracing.trace(of: scored)?.spanID)
            let stored = try await environment.pool.query(
                "SELECT trace_id, batch_id FROM orders WHERE order_id = 'TRACE-1'"
            )
            #expect(stored.first?[0] == trace.traceID)
            #expect(stored.first?[1] == MessageTracing.trace(of: accepted)?.spanID)
        }
    }

    /// Takes every retention alert waiting on `alerts.retention.p1..p3`, with its message (headers included).
    static func drainAlerts(
        _ environment: TestEnvironment
    ) async throws -> [(alert: RetentionAlert, message: InboundMessage)] {
        var result: [(RetentionAlert, InboundMessage)] = []
        for priority in ["p1", "p2", "p3"] {
            let consumer = AMQPConsumer(
                settings: environment.amqp,
                queue: "alerts.retention.\(priority)",
                prefetch: 100,
                logger: TestServers.logger
            )
            while true {
                let batch = try await consumer.nextBatch(
                    maxCount: 100,
                    wait: .milliseconds(200),
                    linger: .milliseconds(20)
                )
                guard let last = batch.last else { break }
                for message in batch { result.append((try RetentionAlert.decode(body: message.body), message)) }
                try await consumer.acknowledge(upTo: last)
            }
            await consumer.close()
        }
        return result
    }
}
