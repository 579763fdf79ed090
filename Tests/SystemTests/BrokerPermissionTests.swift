import CRMAMQP
import CRMSchema
import CRMSupport
import Foundation
import TestSupport
import Testing

extension SystemTests {
    /// Each service's broker user declares, publishes to and consumes what its service does, and is refused
    /// (ACCESS_REFUSED, reply 403, on a connection that logged in) everything else in the system's topology.
    @Suite("Broker permissions", .serialized)
    struct BrokerPermissionTests {
        static let desks = SystemHarness.desks

        /// Where each service publishes, with a routing key that reaches a queue (publishes are mandatory).
        static let publishes: [ServiceAccount: [(exchange: String, key: String)]] = [
            .intake: [
                (Topology.eventsExchange, Topology.EventKey.orderAccepted),
                (Topology.deadLetterExchange, "intake.orders"),
            ],
            .scoring: [
                (Topology.eventsExchange, Topology.EventKey.customerScored),
                (Topology.deadLetterExchange, "scoring.events"),
            ],
            .alerts: [(Topology.alertsExchange, "retention.p1"), (Topology.deadLetterExchange, "alerts.feedback")],
            .complaints: [
                (Topology.desksExchange, "desk.escalations"),
                (Topology.eventsExchange, Topology.EventKey.complaintSignal),
                (Topology.deadLetterExchange, "complaints.inbox"),
            ],
        ]

        /// The queues each service consumes.
        static let consumes: [ServiceAccount: [String]] = [
            .intake: [Topology.intakeQueue], .scoring: [Topology.scoringEventsQueue],
            .alerts: [Topology.alertEventsQueue, Topology.feedbackQueue], .complaints: [Topology.complaintsQueue],
        ]

        /// The broker's reply code of a failure, or nil when the body succeeds.
        static func replyCode(_ body: () async throws -> Void) async -> Int? {
            do {
                try await body()
                return nil
            } catch let error as AMQPError {
                return error.replyCode ?? -1
            } catch {
                return -2
            }
        }

        @Test func eachUserDeclaresPublishesAndConsumesOnlyWhatItsServiceDoes() async throws {
            try await TestServers.withEnvironment(migrate: false) { environment in
                try await environment.grantBrokerPermissions(desks: Self.desks)
                // In an empty vhost, each service creates its own topology with its own user, in the order a
                // deployment starts them (complaints binds alerts' queue, which it may not create).
                for account in ServiceAccount.brokerAccounts {
                    let publisher = AMQPPublisher(
                        settings: try environment.amqp(as: account),
                        name: account.name,
                        topology: account.topology(desks: Self.desks),
                        logger: TestServers.logger
                    )
                    #expect(
                        await Self.replyCode { try await publisher.connect() } == nil,
                        "\(account.name) cannot declare its topology"
                    )
                    await publisher.close()
                }
                for account in ServiceAccount.brokerAccounts {
                    let publisher = AMQPPublisher(
                        settings: try environment.amqp(as: account),
                        name: account.name,
                        logger: TestServers.logger
                    )
                    for (exchange, key) in Self.publishes[account] ?? [] {
                        let code = await Self.replyCode {
                            try await publisher.publish(
                                OutboundMessage(exchange: exchange, routingKey: key, body: Data("{}".utf8))
                            )
                        }
                        #expect(code == nil, "\(account.name) cannot publish to \(exchange) with \(key)")
                    }
                    await publisher.close()
                    for queue in Self.consumes[account] ?? [] {
                        let consumer = AMQPConsumer(
                            settings: try environment.amqp(as: account),
                            queue: queue,
                            prefetch: 1,
                            logger: TestServers.logger
                        )
                        let code = await Self.replyCode {
                            _ = try await consumer.nextBatch(maxCount: 1, wait: .milliseconds(50), linger: .zero)
                        }
                        #expect(code == nil, "\(account.name) cannot consume \(queue)")
                        await consumer.close()
                    }
                }

                let system = Topology.system(desks: Self.desks)
                for account in ServiceAccount.brokerAccounts {
                    let settings = try environment.amqp(as: account)
                    let own = Set(account.topology(desks: Self.desks).allQueues.map(\.queue.name))
                    for (queue, _) in system.allQueues where !account.owns(queue: queue.name) {
                        let consumer = AMQPConsumer(
                            settings: settings,
                            queue: queue.name,
                            prefetch: 1,
                            logger: TestServers.logger
                        )
                        let code = await Self.replyCode {
                            _ = try await consumer.nextBatch(maxCount: 1, wait: .milliseconds(50), linger: .zero)
                        }
                        #expect(
                            code == 403,
                            "\(account.name) consumed \(queue.name) (\(code.map(String.init) ?? "allowed"))"
                        )
                        await consumer.close()
                    }
                    let publisher = AMQPPublisher(settings: settings, name: account.name, logger: TestServers.logger)
                    for exchange in system.exchanges where !account.publishesTo.contains(exchange.name) {
                        let code = await Self.replyCode {
                            try await publisher.publish(
                                OutboundMessage(exchange: exchange.name, routingKey: "x", body: Data("{}".utf8)),
                                confirmTimeout: .seconds(5)
                            )
                        }
                        #expect(
                            code == 403,
                            "\(account.name) published to \(exchange.name) (\(code.map(String.init) ?? "allowed"))"
                        )
                    }
                    await publisher.close()
                    // Nothing beyond its own topology can be declared, even under its own prefix.
                    let stranger = Topology(queues: [
                        Topology.Queue(
                            "\(account.rawValue).stranger",
                            bindings: [Topology.Binding(Topology.ordersExchange, "order.v1")]
                        )
                    ])
                    #expect(!own.contains("\(account.rawValue).stranger"))
                    let declarer = AMQPPublisher(
                        settings: settings,
                        name: account.name,
                        topology: stranger,
                        logger: TestServers.logger
                    )
                    #expect(
                        await Self.replyCode { try await declarer.connect() } == 403,
                        "\(account.name) declared a queue of its own"
                    )
                    await declarer.close()
                }
            }
        }
    }
}
