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

/// customer.v1 → crm-intake → crm-scoring → crm.lifecycle, both services running with their production parts.
@Suite("Lifecycle pipeline")
struct LifecyclePipelineTests {
    static let probe = Topology(
        exchanges: [Topology.Exchange(Topology.lifecycleExchange)],
        queues: [
            Topology.Queue(
                "test.lifecycle",
                bindings: [.init(Topology.lifecycleExchange, "lifecycle.#")],
                deadLettered: false
            )
        ]
    )

    static func registration(_ id: String) -> OutboundMessage {
        OutboundMessage(
            exchange: Topology.customersExchange,
            routingKey: "customer.v1",
            body: Data(
                #"{"schema":"customer.v1","customer_id":"\#(id)","registered_at":"\#(Timestamp(Date()).rfc3339)"}"#.utf8
            )
        )
    }

    /// A registered customer is announced `potential`, then `development` on its first purchase; with no queue bound
    /// to crm.lifecycle the events are dropped by the broker and scoring's outbox is not held up.
    @Test func aRegistrationAndAFirstPurchaseReachMarketingTools() async throws {
        try await TestServers.withEnvironment { environment in
            try await environment.declare(Topology.system(desks: []))
            let publisher = AMQPPublisher(
                settings: environment.amqp,
                name: "test",
                topology: Topology.system(desks: []),
                logger: TestServers.logger
            )
            let events = try await environment.whileRunning(
                "crm-intake",
                topology: IntakeService.topology,
                parts: IntakeService.parts
            ) { _ in
                try await ScoringHarness.whileScoring(environment) { _ in
                    // Nobody listens yet: the event is published all the same and leaves the outbox.
                    try await publisher.publish([Self.registration("P-0")])
                    let drained = try await eventually(.seconds(60)) {
                        let scored = try await environment.pool.query(
                            "SELECT count(*) FROM customer_scores WHERE customer_id = 'P-0' AND announced_stage = 'potential'"
                        )[0].decode(0, as: Int.self)
                        let waiting = try await environment.pool.query(
                            "SELECT count(*) FROM crm_outbox WHERE source = 'scoring'"
                        )[0].decode(0, as: Int.self)
                        return scored == 1 && waiting == 0
                    }
                    #expect(drained)

                    try await environment.declare(Self.probe)
                    let consumer = AMQPConsumer(
                        settings: environment.amqp,
                        queue: "test.lifecycle",
                        prefetch: 10,
                        logger: TestServers.logger
                    )
                    try await publisher.publish([Self.registration("P-1")])
                    // Delivery is at least once: the outbox relay publishes again what the broker did not confirm
                    // in time (under load), with the same message id. So each round reads until an event it has not
                    // seen arrives, and a repeat must be the same message.
                    var received: [InboundMessage] = []
                    var seen: [String: InboundMessage] = [:]
                    func take(_ batch: [InboundMessage]) {
                        for message in batch {
                            if let earlier = seen[message.messageID ?? ""] {
                                #expect(earlier.body == message.body, "a repeat of \(earlier.routingKey) differs")
                            } else {
                                seen[message.messageID ?? ""] = message
                                received.append(message)
                            }
                        }
                    }
                    for round in 0..<2 {
                        if round == 1 {
                            try await publisher.publish([
                                OutboundMessage(
                                    exchange: Topology.ordersExchange,
                                    routingKey: "order.v1",
                                    body: ScoringHarness.order(
                                        "P-1-1",
                                        customer: "P-1",
                                        at: Timestamp(Date()).rfc3339,
                                        amount: "30.00"
                                    )
                                )
                            ])
                        }
                        let deadline = ContinuousClock.now + .seconds(60)
                        while received.count <= round, ContinuousClock.now < deadline {
                            let batch = try await consumer.nextBatch(
                                maxCount: 1,
                                wait: .seconds(60),
                                linger: .milliseconds(10)
                            )
                            if let last = batch.last { try await consumer.acknowledge(upTo: last) }
                            take(batch)
                        }
                    }
                    // Nothing more comes for either.
                    take(try await consumer.nextBatch(maxCount: 10, wait: .seconds(1), linger: .zero))
                    await consumer.close()
                    return received
                }
            }
            await publisher.close()
            let decoded = try events.map { (try CustomerLifecycleEvent.decode(body: $0.body), $0) }
            #expect(decoded.map(\.1.routingKey) == ["lifecycle.potential", "lifecycle.development"])
            #expect(decoded.map(\.0.customerID.rawValue) == ["P-1", "P-1"])
            #expect(decoded.map(\.0.previousStage) == [nil, .potential])
            #expect(decoded.map(\.0.suggestedAction) == ["welcome_series", "second_purchase_nudge"])
            #expect(decoded.allSatisfy { $0.1.messageID == $0.0.eventID })
        }
    }
}
