import Foundation
import Intake
import Shared
import TestSupport

/// Runs the intake consumer in-process against a test environment.
enum IntakeHarness {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/cdnow")

    static func publisher(_ environment: TestEnvironment) -> AMQPPublisher {
        AMQPPublisher(settings: environment.amqp, name: "test", topology: IntakeService.topology, logger: TestServers.logger)
    }

    static func publish(_ bodies: [Data], with publisher: AMQPPublisher) async throws {
        for start in stride(from: 0, to: bodies.count, by: 1000) {
            try await publisher.publish(bodies[start..<min(start + 1000, bodies.count)].map {
                OutboundMessage(exchange: Topology.ordersExchange, routingKey: "order.v1", body: $0)
            })
        }
    }

    /// Runs intake while `body` runs, then stops it.
    static func whileRunning<T: Sendable>(
        _ environment: TestEnvironment, batchSize: Int = 250, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let publisher = publisher(environment)
        let handler = OrderIntakeHandler(pool: environment.pool, baseCurrency: "USD")
        let consumer = AMQPConsumer(
            settings: environment.amqp, queue: Topology.intakeQueue, prefetch: UInt16(batchSize * 2),
            topology: IntakeService.topology, logger: TestServers.logger)
        let service = QueueConsumer(
            queue: Topology.intakeQueue, consumer: consumer, deadLetters: publisher,
            options: .init(batchSize: batchSize), logger: TestServers.logger, handler: handler.staged)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await service.run()
                return nil
            }
            group.addTask { try await body() }
            var result: T?
            for try await value in group {
                if let value {
                    result = value
                    group.cancelAll()
                }
            }
            await publisher.close()
            return result!
        }
    }

    /// Waits until `condition` holds, up to `timeout`.
    static func eventually(_ timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    /// Dead letters waiting in `intake.orders.dead`, by reason.
    static func deadLetters(_ environment: TestEnvironment, expecting count: Int) async throws -> [String: [InboundMessage]] {
        let consumer = AMQPConsumer(settings: environment.amqp, queue: "intake.orders.dead", prefetch: 200, logger: TestServers.logger)
        var letters: [InboundMessage] = []
        while letters.count < count {
            let batch = try await consumer.nextBatch(maxCount: 200, wait: .seconds(10), linger: .milliseconds(50))
            if batch.isEmpty { break }
            letters += batch
        }
        await consumer.close()
        return Dictionary(grouping: letters) { $0.headers[Topology.errorHeader]?.stringValue ?? "" }
    }

    static func order(
        _ id: String, customer: String = "C-1", amount: String = "10.00", currency: String = "USD",
        kind: String = "purchase", original: String? = nil, extra: String = ""
    ) -> Data {
        let originalField = original.map { #","original_order_id":"\#($0)""# } ?? ""
        return Data(
            #"{"schema":"order.v1","order_id":"\#(id)","customer_id":"\#(customer)","occurred_at":"2026-11-20T10:15:00+08:00","kind":"\#(kind)","amount":"\#(amount)","currency":"\#(currency)"\#(originalField)\#(extra)}"#.utf8)
    }
}
