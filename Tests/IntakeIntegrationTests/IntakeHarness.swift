import CRMAMQP
import CRMSupport
import Foundation
import Intake
import TestSupport

/// Runs the intake consumer in-process against a test environment.
enum IntakeHarness {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/cdnow")

    static func publisher(_ environment: TestEnvironment) -> AMQPPublisher {
        AMQPPublisher(
            settings: environment.amqp,
            name: "test",
            topology: IntakeService.topology,
            logger: TestServers.logger
        )
    }

    static func publish(_ bodies: [Data], with publisher: AMQPPublisher) async throws {
        for start in stride(from: 0, to: bodies.count, by: 1000) {
            try await publisher.publish(
                bodies[start..<min(start + 1000, bodies.count)].map {
                    OutboundMessage(exchange: Topology.ordersExchange, routingKey: "order.v1", body: $0)
                }
            )
        }
    }

    /// Runs crm-intake's parts, built as its executable builds them, while `body` runs; then stops them.
    static func whileRunning<T: Sendable>(
        _ environment: TestEnvironment,
        batchSize: Int = 250,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await environment.whileRunning(
            "crm-intake",
            topology: IntakeService.topology,
            settings: ["CRM_INTAKE_BATCH_SIZE": "\(batchSize)"],
            parts: IntakeService.parts
        ) { _ in try await body() }
    }

    /// Dead letters waiting in `queue` (`intake.orders.dead` unless named), by reason.
    static func deadLetters(
        _ environment: TestEnvironment,
        expecting count: Int,
        queue: String = "intake.orders.dead"
    ) async throws -> [String: [InboundMessage]] {
        let consumer = AMQPConsumer(
            settings: environment.amqp,
            queue: queue,
            prefetch: 200,
            logger: TestServers.logger
        )
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
        _ id: String,
        customer: String = "C-1",
        amount: String = "10.00",
        currency: String = "USD",
        kind: String = "purchase",
        original: String? = nil,
        extra: String = ""
    ) -> Data {
        let originalField = original.map { #","original_order_id":"\#($0)""# } ?? ""
        return Data(
            #"{"schema":"order.v1","order_id":"\#(id)","customer_id":"\#(customer)","occurred_at":"2026-11-20T10:15:00+08:00","kind":"\#(kind)","amount":"\#(amount)","currency":"\#(currency)"\#(originalField)\#(extra)}"#
                .utf8
        )
    }
}
