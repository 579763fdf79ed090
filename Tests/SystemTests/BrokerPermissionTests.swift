import CRMAMQP
import CRMSchema
import CRMSupport
import Foundation
import TestSupport
import Testing

extension SystemTests {
    /// Each service's broker user checks its topology, publishes and consumes what its service does, and is refused
    /// (ACCESS_REFUSED, reply 403, on a connection that logged in) everything else in the system's topology: other
    /// routing keys, other queues' dead letters, declaring, binding and deleting.
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

        static func publish(
            as settings: AMQPSettings,
            _ exchange: String,
            _ key: String,
            _ body: String = "{}"
        ) async -> Int? {
            let publisher = AMQPPublisher(settings: settings, name: "probe", logger: TestServers.logger)
            let code = await replyCode {
                try await publisher.publish(
                    OutboundMessage(exchange: exchange, routingKey: key, body: Data(body.utf8)),
                    confirmTimeout: .seconds(5)
                )
            }
            await publisher.close()
            return code
        }

        @Test func eachUserChecksPublishesAndConsumesOnlyWhatItsServiceDoes() async throws {
            try await TestServers.withEnvironment(migrate: false) { environment in
                try await environment.grantBrokerPermissions()
                // Before `crm migrate`, a service finds its topology missing and creates nothing.
                for account in ServiceAccount.brokerAccounts {
                    let checker = AMQPPublisher(
                        settings: try environment.amqp(as: account),
                        name: account.name,
                        topology: account.topology(desks: Self.desks),
                        topologyAction: .verify,
                        logger: TestServers.logger
                    )
                    #expect(await Self.replyCode { try await checker.connect() } == 404, "\(account.name)")
                    await checker.close()
                }
                try await environment.declare(Topology.system(desks: Self.desks))
                for account in ServiceAccount.brokerAccounts {
                    let checker = AMQPPublisher(
                        settings: try environment.amqp(as: account),
                        name: account.name,
                        topology: account.topology(desks: Self.desks),
                        topologyAction: .verify,
                        logger: TestServers.logger
                    )
                    #expect(
                        await Self.replyCode { try await checker.connect() } == nil,
                        "\(account.name) cannot check its topology"
                    )
                    await checker.close()
                }
                for account in ServiceAccount.brokerAccounts {
                    let settings = try environment.amqp(as: account)
                    for (exchange, key) in Self.publishes[account] ?? [] {
                        let code = await Self.publish(as: settings, exchange, key)
                        #expect(code == nil, "\(account.name) cannot publish to \(exchange) with \(key)")
                    }
                    for queue in account.consumes {
                        let consumer = AMQPConsumer(
                            settings: settings,
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
                    for (queue, _) in system.allQueues where !account.consumes.contains(queue.name) {
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
                    for exchange in system.exchanges where !account.publishesTo.contains(exchange.name) {
                        let code = await Self.publish(as: settings, exchange.name, "x")
                        #expect(
                            code == 403,
                            "\(account.name) published to \(exchange.name) (\(code.map(String.init) ?? "allowed"))"
                        )
                    }
                }
            }
        }

        /// Topic permissions: on the exchanges it may write to, an account publishes only its own routing keys. With
        /// `crm_intake`'s password alone, no `customer.scored` can be forged, and no letter planted in another
        /// service's dead-letter queue.
        @Test func eachUserPublishesOnlyItsOwnRoutingKeys() async throws {
            try await TestServers.withEnvironment(migrate: false) { environment in
                try await environment.grantBrokerPermissions()
                try await environment.declare(Topology.system(desks: Self.desks))
                let eventKeys = [
                    Topology.EventKey.orderAccepted, Topology.EventKey.customerScored,
                    Topology.EventKey.complaintSignal,
                ]
                let deadKeys = Topology.system(desks: Self.desks).allQueues.filter { !$0.isDeadLetterQueue }
                    .map(\.queue.name)
                for account in ServiceAccount.brokerAccounts {
                    let settings = try environment.amqp(as: account)
                    if account.publishesTo.contains(Topology.eventsExchange) {
                        for key in eventKeys where !account.events.contains(key) {
                            let code = await Self.publish(as: settings, Topology.eventsExchange, key)
                            #expect(
                                code == 403,
                                "\(account.name) published \(key) (\(code.map(String.init) ?? "allowed"))"
                            )
                        }
                    }
                    for key in deadKeys where !account.consumes.contains(key) {
                        let code = await Self.publish(as: settings, Topology.deadLetterExchange, key)
                        #expect(code == 403, "\(account.name) planted a letter in \(key).dead")
                    }
                }
                let alerts = try environment.amqp(as: .alerts)
                #expect(await Self.publish(as: alerts, Topology.alertsExchange, "alert.v1.feedback") == 403)
                let complaints = try environment.amqp(as: .complaints)
                #expect(await Self.publish(as: complaints, Topology.desksExchange, "desk.a.b") == 403)
            }
        }

        /// No service can declare, bind or (holding no configure permission) delete anything: not the shared
        /// exchanges, not a queue of its own bound to `crm.dead` or `crm.events` to read others' messages.
        @Test func noUserDeclaresBindsOrDeletes() async throws {
            try await TestServers.withEnvironment(migrate: false) { environment in
                try await environment.grantBrokerPermissions()
                let system = Topology.system(desks: Self.desks)
                try await environment.declare(system)
                for account in ServiceAccount.brokerAccounts {
                    let settings = try environment.amqp(as: account)
                    for exchange in system.exchanges {
                        let declarer = AMQPPublisher(
                            settings: settings,
                            name: account.name,
                            topology: Topology(exchanges: [exchange]),
                            logger: TestServers.logger
                        )
                        #expect(
                            await Self.replyCode { try await declarer.connect() } == 403,
                            "\(account.name) declared \(exchange.name)"
                        )
                        await declarer.close()
                    }
                    // Its own queue bound to another exchange, to read what flows there: a binding needs read on the
                    // exchange and write on the queue, which it has on neither.
                    for queue in account.consumes {
                        for (exchange, key) in [
                            (Topology.deadLetterExchange, "#"), (Topology.eventsExchange, "#"),
                            (Topology.desksExchange, "#"),
                        ] {
                            let binder = AMQPPublisher(
                                settings: settings,
                                name: account.name,
                                logger: TestServers.logger
                            )
                            #expect(
                                await Self.replyCode {
                                    try await binder.bind(queue: queue, to: exchange, routingKey: key)
                                } == 403,
                                "\(account.name) bound \(queue) to \(exchange)"
                            )
                            await binder.close()
                        }
                    }
                    let set = try JSONSerialization.jsonObject(
                        with: try await ManagementAPI.request(
                            "GET",
                            "/api/permissions/\(environment.virtualHost.name)/\(account.name)"
                        )
                    )
                    // exchange.delete and queue.delete need configure, which no service has.
                    #expect((set as? [String: Any])?["configure"] as? String == "^$")
                }
            }
        }
    }
}
