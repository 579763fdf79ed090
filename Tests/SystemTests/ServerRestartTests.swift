import Foundation
import Synchronization
import TestSupport
import Testing

@testable import CRMAMQP
@testable import CRMSupport

extension SystemTests {
    /// Restarts the real servers mid-stream. Runs alone (scripts/test.sh runs this target last),
    /// because a restart would disturb every other test.
    @Suite("Server restarts", .serialized)
    struct ServerRestartTests {
        @Test func aBrokerRestartDuringConsumptionLosesNothing() async throws {
            try await TestServers.withEnvironment(migrate: false) { environment in
                let topology = Topology.intake
                let publisher = AMQPPublisher(
                    settings: environment.amqp,
                    name: "t",
                    topology: topology,
                    logger: TestServers.logger
                )
                let processed = Mutex<Set<String>>([])
                let consumer = AMQPConsumer(
                    settings: environment.amqp,
                    queue: Topology.intakeQueue,
                    prefetch: 100,
                    topology: topology,
                    logger: TestServers.logger
                )
                let service = QueueConsumer(
                    queue: Topology.intakeQueue,
                    consumer: consumer,
                    deadLetters: publisher,
                    options: .init(batchSize: 50, maxBackoff: .seconds(1)),
                    logger: TestServers.logger
                ) { batch in
                    processed.withLock { seen in for message in batch { seen.insert(message.messageID ?? "") } }
                    return batch.map { _ in .processed }
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await service.run() }
                    try await Self.publish(0..<500, with: publisher)
                    try Shell.run("rabbitmqctl -q stop_app")
                    try await Task.sleep(for: .seconds(1))
                    try Shell.run("rabbitmqctl -q start_app && rabbitmqctl -q await_startup")
                    try await Self.publish(500..<1000, with: publisher)
                    let deadline = ContinuousClock.now + .seconds(60)
                    while processed.withLock({ $0.count }) < 1000, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    group.cancelAll()
                }
                let seen = processed.withLock { $0 }
                #expect(seen.count == 1000, "missing \(1000 - seen.count) messages after the broker restart")
                #expect(seen == Set((0..<1000).map { "m-\($0)" }))
                await publisher.close()
            }
        }

        /// Publishes, retrying while the broker is away.
        static func publish(_ range: Range<Int>, with publisher: AMQPPublisher) async throws {
            let messages = range.map { index in
                OutboundMessage(
                    exchange: Topology.ordersExchange,
                    routingKey: "order.v1",
                    body: Data("{}".utf8),
                    messageID: "m-\(index)"
                )
            }
            var attempt = 0
            while true {
                do {
                    try await publisher.publish(messages)
                    return
                } catch {
                    attempt += 1
                    guard error.isTransient, attempt < 60 else { throw error }
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
        }

        @Test func aDatabaseRestartIsRetriedTransparently() async throws {
            try await TestServers.withEnvironment(migrate: false) { environment in
                try await environment.pool.execute("CREATE TABLE r (id int)")
                try await environment.pool.execute("INSERT INTO r VALUES (1)")
                let cluster = try Shell.run("pg_lsclusters -h | head -1 | awk '{print $1\" \"$2}'")
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                try Shell.run("pg_ctlcluster \(cluster) restart")
                let count = try await environment.pool.retryingTransaction(for: .seconds(30)) { connection in
                    try connection.execute("INSERT INTO r VALUES (2)")
                    return try connection.query("SELECT count(*) FROM r")[0].decode(0, as: Int.self)
                }
                #expect(count == 2)
            }
        }
    }
}
