import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

@testable import CRMAMQP
@testable import CRMContract
@testable import CRMOutbox
@testable import CRMSupport

/// Publishing, consuming, acking and dead-lettering against the real broker, each test in its own vhost.
@Suite("AMQP")
struct AMQPTests {
    static let topology = Topology.intake

    static func order(_ index: Int, body: String? = nil) -> OutboundMessage {
        OutboundMessage(
            exchange: Topology.ordersExchange,
            routingKey: "order.v1",
            body: Data((body ?? #"{"n":\#(index)}"#).utf8),
            headers: ["x-test-index": .int(Int64(index))],
            messageID: "m-\(index)"
        )
    }

    /// A publisher of the test's vhost that declares the intake topology.
    static func publisher(_ environment: TestEnvironment) -> AMQPPublisher {
        AMQPPublisher(settings: environment.amqp, name: "t", topology: topology, logger: TestServers.logger)
    }

    @Test func publishesWithConfirmsAndConsumesInBatches() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let publisher = Self.publisher(environment)
            for start in stride(from: 0, to: 2000, by: 500) {
                try await publisher.publish((start..<start + 500).map { Self.order($0) })
            }
            let consumer = AMQPConsumer(
                settings: environment.amqp,
                queue: Topology.intakeQueue,
                prefetch: 400,
                logger: TestServers.logger
            )
            var seen = Set<String>()
            var largest = 0
            while seen.count < 2000 {
                let batch = try await consumer.nextBatch(maxCount: 200, wait: .seconds(5), linger: .milliseconds(20))
                try #require(!batch.isEmpty, "deliveries stopped at \(seen.count)")
                largest = max(largest, batch.count)
                for message in batch {
                    seen.insert(message.messageID ?? "")
                    #expect(message.headers["x-test-index"] != nil)
                    #expect(message.contentType == "application/json")
                }
                try await consumer.acknowledge(upTo: batch.last!)
            }
            #expect(seen.count == 2000)
            #expect(largest == 200)
            await consumer.close()
            let depth = try await publisher.inspectQueue(Topology.intakeQueue)
            #expect(depth.messages == 0)
            await publisher.close()
        }
    }

    @Test func unacknowledgedMessagesAreRedelivered() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let publisher = Self.publisher(environment)
            try await publisher.publish((0..<10).map { Self.order($0) })
            let first = AMQPConsumer(
                settings: environment.amqp,
                queue: Topology.intakeQueue,
                prefetch: 20,
                logger: TestServers.logger
            )
            let taken = try await first.nextBatch(maxCount: 10, wait: .seconds(5), linger: .milliseconds(100))
            #expect(taken.count == 10)
            #expect(taken.allSatisfy { !$0.redelivered })
            await first.close()
            let second = AMQPConsumer(
                settings: environment.amqp,
                queue: Topology.intakeQueue,
                prefetch: 20,
                logger: TestServers.logger
            )
            let again = try await second.nextBatch(maxCount: 10, wait: .seconds(5), linger: .milliseconds(100))
            #expect(Set(again.compactMap(\.messageID)) == Set(taken.compactMap(\.messageID)))
            #expect(again.allSatisfy { $0.redelivered })
            try await second.acknowledge(upTo: again.last!)
            await second.close()
            await publisher.close()
        }
    }

    /// A long run of messages is published with a bounded window of unconfirmed ones; the confirmed count only
    /// grows, ends at every message, and every message is in the queue once.
    @Test func streamingPublishKeepsAWindowAndReportsConfirmedMessages() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let publisher = Self.publisher(environment)
            let reports = Mutex<[Int]>([])
            try await publisher.publish(streaming: (0..<5000).map { Self.order($0) }, window: 300) { count in
                reports.withLock { $0.append(count) }
            }
            let seen = reports.withLock { $0 }
            #expect(seen.last == 5000)
            #expect(seen == seen.sorted() && Set(seen).count == seen.count)
            #expect(seen.count > 1, "confirms are reported as they come, not only at the end")
            let depth = try await publisher.inspectQueue(Topology.intakeQueue)
            #expect(depth.messages == 5000)
            // An unroutable message in a stream is still an error.
            let lost = OutboundMessage(
                exchange: Topology.ordersExchange,
                routingKey: "no.such.binding",
                body: Data("{}".utf8)
            )
            await #expect(throws: AMQPError.self) {
                try await publisher.publish(streaming: (0..<50).map { Self.order($0) } + [lost], window: 10)
            }
            await publisher.close()
        }
    }

    @Test func confirmTrackerFollowsSingleMultipleAndNegativeConfirms() {
        var tracker = ConfirmTracker(first: 11, count: 6)  // tags 11...16
        tracker.settle(tag: 9, multiple: true, positive: true)  // an earlier run's
        #expect(tracker.pending == 6 && tracker.confirmedPrefix == 0)
        tracker.settle(tag: 12, multiple: false, positive: true)
        #expect(tracker.settledCount == 1 && tracker.confirmedPrefix == 0)
        tracker.settle(tag: 11, multiple: false, positive: true)
        #expect(tracker.confirmedPrefix == 2)
        tracker.settle(tag: 14, multiple: true, positive: false)  // nacks 13 and 14, not 11 and 12 again
        #expect(tracker.nacked == 2 && tracker.settledCount == 4 && tracker.confirmedPrefix == 2)
        tracker.settle(tag: 16, multiple: true, positive: true)
        #expect(tracker.isComplete && tracker.nacked == 2 && tracker.confirmedPrefix == 2)
        tracker.settle(tag: 17, multiple: false, positive: true)  // past the run
        #expect(tracker.pending == 0)
    }

    @Test func unroutablePublishIsAnError() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let publisher = Self.publisher(environment)
            let lost = OutboundMessage(
                exchange: Topology.ordersExchange,
                routingKey: "no.such.binding",
                body: Data("{}".utf8)
            )
            await #expect(throws: AMQPError.self) { try await publisher.publish([lost]) }
            // The publisher stays usable after the error.
            try await publisher.publish([Self.order(1)])
            await publisher.close()
        }
    }

    /// A nack throws and lets the connection go, so the retry starts on a new one (on a cluster, at the next broker).
    @Test func aNackedPublishThrowsAndStartsOverOnANewConnection() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let publisher = Self.publisher(environment)
            try await publisher.connect()
            // A queue that refuses every message: none fits, and a full queue rejects what comes.
            let (admin, _) = try AMQPConnection.open(environment.amqp, connectionName: "crm test admin")
            defer { admin.close() }
            try admin.declareQueue(
                "t.full",
                arguments: ["x-max-length": .int(0), "x-overflow": .string("reject-publish")]
            )
            try admin.bindQueue("t.full", exchange: Topology.ordersExchange, routingKey: "order.full")
            let refused = OutboundMessage(
                exchange: Topology.ordersExchange,
                routingKey: "order.full",
                body: Data("{}".utf8)
            )
            await #expect {
                try await publisher.publish([refused])
            } throws: { error in
                (error as? AMQPError)?.code == .publishNacked
            }
            #expect(await publisher.isConnected == false, "the nacked connection is let go")
            try await publisher.publish([Self.order(1)])
            #expect(await publisher.isConnected)
            await publisher.close()
        }
    }

    @Test func consumerDeadLettersWithReasonAndAcksTheRest() async throws {
        struct Poison: Error {}
        try await TestServers.withEnvironment(migrate: false) { environment in
            let publisher = Self.publisher(environment)
            let messages = (0..<300).map { index in
                switch index % 50 {
                case 7: Self.order(index, body: "bad")
                case 13: Self.order(index, body: "poison")
                default: Self.order(index)
                }
            }
            try await publisher.publish(messages)
            let processed = Mutex<Set<String>>([])
            let consumer = AMQPConsumer(
                settings: environment.amqp,
                queue: Topology.intakeQueue,
                prefetch: 100,
                logger: TestServers.logger
            )
            let service = QueueConsumer(
                queue: Topology.intakeQueue,
                consumer: consumer,
                deadLetters: publisher,
                options: .init(batchSize: 50),
                logger: TestServers.logger
            ) { batch in
                if batch.contains(where: { $0.body == Data("poison".utf8) }) { throw Poison() }
                return batch.map { message in
                    if message.body == Data("bad".utf8) {
                        return .deadLetter(MessageRejection(.invalidJSON, field: "body", "not valid JSON"))
                    }
                    processed.withLock { _ = $0.insert(message.messageID!) }
                    return .processed
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                let deadline = ContinuousClock.now + .seconds(30)
                while processed.withLock({ $0.count }) < 288, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                group.cancelAll()
            }
            #expect(processed.withLock { $0.count } == 288)
            let dead = AMQPConsumer(
                settings: environment.amqp,
                queue: "intake.orders.dead",
                prefetch: 50,
                logger: TestServers.logger
            )
            var letters: [InboundMessage] = []
            while letters.count < 12 {
                let batch = try await dead.nextBatch(maxCount: 50, wait: .seconds(5), linger: .milliseconds(50))
                try #require(!batch.isEmpty, "only \(letters.count) dead letters")
                letters += batch
            }
            let reasons = Dictionary(grouping: letters) { $0.headers[Topology.errorHeader]?.stringValue ?? "" }
            #expect(reasons["body: not valid JSON"]?.count == 6)
            #expect(reasons.keys.contains { $0.hasPrefix("processing failed") })
            #expect(letters.allSatisfy { $0.headers["x-test-index"] != nil })
            #expect(letters.allSatisfy { $0.headers["x-crm-original-routing-key"] == .string("order.v1") })
            await dead.close()
            let depth = try await publisher.inspectQueue(Topology.intakeQueue)
            #expect(depth.messages == 0)
            await publisher.close()
        }
    }

    /// A staged handler prepares the next batch while the current one commits; every message is committed once, in
    /// order, with the preparation made for its own batch, and a batch taken ahead when the consumer stops is left
    /// unacknowledged, so the next consumer gets it.
    @Test func stagedHandlerPreparesAheadAndLosesNothingOnStop() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let publisher = Self.publisher(environment)
            try await publisher.publish((0..<600).map { Self.order($0) })
            // Which commits had ended when each message was prepared: a message committed in batch n and prepared
            // before batch n - 1's commit ended was prepared ahead. (Not "while a commit flag was set": the consumer
            // prepares what has arrived right after it starts a commit, which on a loaded machine can run before the
            // commit's own first line, and a test that timed it failed there.)
            struct State {
                var committed: [String] = []
                var commitsEnded = 0
                var preparedAfter: [String: Int] = [:]
                var preparedAhead = 0
            }
            let state = Mutex(State())
            func consumerService() -> QueueConsumer {
                let handler = QueueConsumer.StagedHandler<String>(
                    prepare: { message in
                        let id = message.messageID ?? ""
                        state.withLock { $0.preparedAfter[id] = $0.commitsEnded }
                        return id
                    },
                    commit: { batch, prepared in
                        #expect(prepared == batch.map { $0.messageID ?? "" })
                        state.withLock { state in
                            let ended = state.commitsEnded
                            state.preparedAhead += prepared.count { (state.preparedAfter[$0] ?? ended) < ended }
                        }
                        try await Task.sleep(for: .milliseconds(30))
                        state.withLock {
                            $0.committed += prepared
                            $0.commitsEnded += 1
                        }
                        return batch.map { _ in .processed }
                    }
                )
                return QueueConsumer(
                    queue: Topology.intakeQueue,
                    consumer: AMQPConsumer(
                        settings: environment.amqp,
                        queue: Topology.intakeQueue,
                        prefetch: 100,
                        logger: TestServers.logger
                    ),
                    deadLetters: publisher,
                    options: .init(batchSize: 50),
                    logger: TestServers.logger,
                    handler: handler
                )
            }
            func run(until count: Int) async throws {
                let service = consumerService()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await service.run() }
                    let deadline = ContinuousClock.now + .seconds(30)
                    while state.withLock({ $0.committed.count }) < count, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    group.cancelAll()
                }
            }
            // Stopped mid-stream: the batch it had taken ahead was never committed, nor acknowledged.
            try await run(until: 200)
            let first = state.withLock { $0.committed }
            #expect(first.count < 600)
            try await run(until: 600)
            #expect(state.withLock { $0.preparedAhead } > 0, "messages prepared while the batch before them committed")
            let all = state.withLock { $0.committed }
            #expect(all.count == 600, "every message committed exactly once")
            #expect(Set(all).count == 600)
            #expect(Array(all.prefix(first.count)) == (0..<first.count).map { "m-\($0)" }, "in order")
            let depth = try await publisher.inspectQueue(Topology.intakeQueue)
            #expect(depth.messages == 0)
            await publisher.close()
        }
    }

    @Test func outboxPublishesCommittedRowsOnly() async throws {
        struct Abort: Error {}
        try await TestServers.withEnvironment { environment in
            let publisher = Self.publisher(environment)
            let relay = OutboxRelay(
                source: "test",
                pool: environment.pool,
                publisher: publisher,
                logger: TestServers.logger
            )
            try await environment.pool.transaction { connection in
                try Outbox(relay: relay).enqueue((0..<3).map { Self.order($0) }, on: connection)
            }
            try? await environment.pool.transaction { connection in
                try Outbox(relay: relay).enqueue([Self.order(99)], on: connection)
                throw Abort()
            }
            #expect(try await relay.relayOnce() == 3)
            #expect(try await relay.relayOnce() == 0)
            let depth = try await publisher.inspectQueue(Topology.intakeQueue)
            #expect(depth.messages == 3)
            await publisher.close()
        }
    }

    /// A message whose processing fails in the database is dead-lettered with a code and a short text: never the
    /// server's message, which quotes the value that broke it; the error log holds the same, the statement goes to
    /// the debug log without values.
    @Test func aProcessingFailureNamesItsCodeAndNoValue() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let publisher = Self.publisher(environment)
            let marker = "SECRET-li@example.com"
            try await publisher.publish([
                OutboundMessage(
                    exchange: Topology.ordersExchange,
                    routingKey: "order.v1",
                    body: Data(marker.utf8),
                    messageID: "m-1"
                )
            ])
            let logs = LogCapture()
            var logger = Logger(label: "capture") { _ in logs }
            logger.logLevel = .debug
            let pool = environment.pool
            let service = QueueConsumer(
                queue: Topology.intakeQueue,
                consumer: AMQPConsumer(
                    settings: environment.amqp,
                    queue: Topology.intakeQueue,
                    prefetch: 10,
                    logger: TestServers.logger
                ),
                deadLetters: publisher,
                logger: logger
            ) { batch in
                // PostgreSQL answers: invalid input syntax for type numeric: "SECRET-li@example.com".
                _ = try await pool.query("SELECT $1::numeric", [String(decoding: batch[0].body, as: UTF8.self)])
                return batch.map { _ in .processed }
            }
            let dead = AMQPConsumer(
                settings: environment.amqp,
                queue: "intake.orders.dead",
                prefetch: 10,
                logger: TestServers.logger
            )
            let letters = try await withThrowingTaskGroup(of: [InboundMessage].self) { group in
                group.addTask {
                    try await service.run()
                    return []
                }
                group.addTask { try await dead.nextBatch(maxCount: 1, wait: .seconds(15), linger: .zero) }
                var letters: [InboundMessage] = []
                for try await result in group where !result.isEmpty {
                    letters = result
                    group.cancelAll()
                }
                return letters
            }
            await dead.close()
            await publisher.close()
            let reason = letters.first?.headers[Topology.errorHeader]?.stringValue
            #expect(reason == "processing failed: database error 22P02 (invalid text representation)")
            let lines = logs.lines
            #expect(lines.contains { $0.level == .error && $0.text.contains("database error 22P02") })
            #expect(lines.contains { $0.level == .debug && $0.text.contains("SELECT $1::numeric") })
            #expect(!lines.contains { $0.text.contains("SECRET") }, "\(lines)")
        }
    }
}

/// Every log line, message and metadata flattened into text.
final class LogCapture: LogHandler, @unchecked Sendable {
    private let storage = Mutex<[(level: Logger.Level, text: String)]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    var lines: [(level: Logger.Level, text: String)] { storage.withLock { $0 } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let text = "\(event.message) " + all.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        storage.withLock { $0.append((event.level, text)) }
    }
}
