import ArgumentParser
import CRMAMQP
import CRMSupport
import Foundation
import Intake
import Synchronization

/// `crm load-orders FILE`: publishes a file of orders to `crm.orders` with confirms.
struct LoadOrders: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-orders",
        abstract: "Publish a file of orders (order.v1 JSON lines or CDNOW format) to crm.orders.",
        discussion: """
            Messages stream to the broker with at most --window of them awaiting its confirm; after a \
            failure, publishing resumes from the first unconfirmed message, and intake stores each order \
            once however often it arrives. CDNOW lines get deterministic order ids, so loading the same \
            file again adds nothing.
            """
    )

    @Argument(help: "The file to publish.", completion: .file())
    var file: String

    @Flag(help: "Print what was published as one JSON object.")
    var json = false

    @Option(help: "Most messages awaiting the broker's confirm at a time.")
    var window = 4000

    func run() async throws {
        let environment = CommandEnvironment()
        let (format, bodies) = try OrderFile.bodies(of: URL(fileURLWithPath: file))
        let publisher = AMQPPublisher(
            settings: try environment.amqp(),
            name: "crm-load-orders",
            topology: IntakeService.topology,
            logger: environment.logger
        )
        let messages = bodies.map {
            OutboundMessage(exchange: Topology.ordersExchange, routingKey: "order.v1", body: $0)
        }
        let progress = ProgressBar(total: messages.count, label: "orders")
        let confirmed = Mutex(0)
        var attempt = 0
        while case let resumeAt = confirmed.withLock({ $0 }), resumeAt < messages.count {
            do {
                try await publisher.publish(streaming: Array(messages[resumeAt...]), window: max(window, 1)) { count in
                    confirmed.withLock { $0 = resumeAt + count }
                    progress.update(resumeAt + count)
                }
                confirmed.withLock { $0 = messages.count }
            } catch {
                attempt += 1
                guard error.isTransient, attempt < 10 else { throw error }
                try await Task.sleep(for: Backoff.delay(attempt: attempt, max: .seconds(5)))
            }
        }
        if messages.isEmpty { progress.update(0) }
        await publisher.close()
        if json {
            print(
                try JSONOutput.string([
                    "published": messages.count, "format": format.rawValue, "file": file,
                    "exchange": Topology.ordersExchange,
                ])
            )
        } else {
            print("Published \(messages.count) orders (\(format.rawValue)) from \(file) to \(Topology.ordersExchange).")
        }
    }
}
