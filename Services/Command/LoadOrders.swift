import ArgumentParser
import Foundation
import Intake
import Shared

/// `crm load-orders FILE`: publishes a file of orders to `crm.orders` with confirms.
struct LoadOrders: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-orders",
        abstract: "Publish a file of orders (order.v1 JSON lines or CDNOW format) to crm.orders.",
        discussion: """
            Every batch is confirmed by the broker before the next is sent; a batch that fails is
            retried, and intake stores each order once however often it arrives. CDNOW lines get
            deterministic order ids, so loading the same file again adds nothing.
            """
    )

    @Argument(help: "The file to publish.", completion: .file())
    var file: String

    @Option(help: "Messages per confirmed batch.")
    var batchSize = 1000

    func run() async throws {
        let environment = CommandEnvironment()
        let (format, bodies) = try OrderFile.bodies(of: URL(fileURLWithPath: file))
        let publisher = AMQPPublisher(
            settings: try environment.amqp(), name: "crm-load-orders", topology: IntakeService.topology,
            logger: environment.logger)
        let progress = ProgressBar(total: bodies.count, label: "orders")
        var sent = 0
        for start in stride(from: 0, to: bodies.count, by: max(batchSize, 1)) {
            let batch = bodies[start..<min(start + batchSize, bodies.count)].map { body in
                OutboundMessage(exchange: Topology.ordersExchange, routingKey: "order.v1", body: body)
            }
            try await publishRetrying(batch, with: publisher)
            sent += batch.count
            progress.update(sent)
        }
        if bodies.isEmpty { progress.update(0) }
        await publisher.close()
        print("Published \(sent) orders (\(format.rawValue)) from \(file) to \(Topology.ordersExchange).")
    }

    private func publishRetrying(_ batch: [OutboundMessage], with publisher: AMQPPublisher) async throws {
        var attempt = 0
        while true {
            do {
                try await publisher.publish(batch)
                return
            } catch {
                attempt += 1
                guard error.isTransient, attempt < 10 else { throw error }
                try await Task.sleep(for: Backoff.delay(attempt: attempt, max: .seconds(5)))
            }
        }
    }
}
