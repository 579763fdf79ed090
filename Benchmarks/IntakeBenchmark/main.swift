import Foundation
import Intake
import Shared
import Synchronization
import TestSupport

// Intake throughput against the broker's own ceiling, measured in the same run on the same machine:
//   raw  — a plain client publishes the CDNOW master (batched confirms) into a durable queue while a
//          plain consumer takes and acks it in batches: the rate the broker allows;
//   e2e  — the same messages published while intake validates and stores them in PostgreSQL.
// Run with scripts/bench.sh (release build, servers from scripts/servers.sh).

let file = URL(fileURLWithPath: CommandLine.arguments.dropFirst().first ?? "Tests/Fixtures/cdnow/CDNOW_master.txt")
let (_, bodies) = try OrderFile.bodies(of: file)
print("messages: \(bodies.count) from \(file.lastPathComponent)")

do {
    let start = ContinuousClock.now
    var canonicalBytes = 0
    for body in bodies { canonicalBytes += try OrderMessage.decode(body: body).canonicalJSON.utf8.count }
    let elapsed = (ContinuousClock.now - start).seconds
    print(String(format: "decode + validate + canonical form alone: %8.0f msg/s (one core)", Double(bodies.count) / elapsed))
    _ = canonicalBytes
}

// The handler alone (decode, validate, one transaction per batch), without the broker.
let handlerOnly = try await TestServers.withEnvironment { environment in
    let handler = OrderIntakeHandler(pool: environment.pool, baseCurrency: "USD")
    let messages = bodies.map { InboundMessage(body: $0) }
    let start = ContinuousClock.now
    for batchStart in stride(from: 0, to: messages.count, by: 500) {
        _ = try await handler.handle(Array(messages[batchStart..<min(batchStart + 500, messages.count)]))
    }
    return Double(messages.count) / (ContinuousClock.now - start).seconds
}
print(String(format: "intake handler alone, batches of 500, no broker:  %8.0f orders/s", handlerOnly))

func publishAll(_ publisher: AMQPPublisher, exchange: String, key: String) async throws {
    for start in stride(from: 0, to: bodies.count, by: 1000) {
        try await publisher.publish(bodies[start..<min(start + 1000, bodies.count)].map {
            OutboundMessage(exchange: exchange, routingKey: key, body: $0)
        })
    }
}

func seconds(_ duration: Duration) -> Double { duration.seconds }

let raw = try await TestServers.withEnvironment(migrate: false) { environment in
    let topology = Topology(
        exchanges: [Topology.Exchange("bench")], queues: [Topology.Queue("bench.raw", bindings: [.init("bench", "raw")], deadLettered: false)])
    let publisher = AMQPPublisher(settings: environment.amqp, name: "bench", topology: topology, logger: TestServers.logger)
    try await publisher.connect()
    let consumer = AMQPConsumer(settings: environment.amqp, queue: "bench.raw", prefetch: 500, topology: topology, logger: TestServers.logger)
    let start = ContinuousClock.now
    async let published: Void = publishAll(publisher, exchange: "bench", key: "raw")
    var received = 0
    while received < bodies.count {
        let batch = try await consumer.nextBatch(maxCount: 250, wait: .seconds(10), linger: .milliseconds(5))
        guard let last = batch.last else { break }
        try await consumer.acknowledge(upTo: last)
        received += batch.count
    }
    try await published
    let elapsed = ContinuousClock.now - start
    await consumer.close()
    await publisher.close()
    return Double(received) / seconds(elapsed)
}
print(String(format: "raw broker (publish + consume, durable queue): %8.0f msg/s", raw))

let endToEnd = try await TestServers.withEnvironment { environment in
    let publisher = AMQPPublisher(settings: environment.amqp, name: "bench", topology: IntakeService.topology, logger: TestServers.logger)
    try await publisher.connect()
    let handler = OrderIntakeHandler(pool: environment.pool, baseCurrency: "USD")
    let consumers = Int(ProcessInfo.processInfo.environment["CRM_INTAKE_CONSUMERS"] ?? "2") ?? 2
    let services = (0..<consumers).map { _ in
        QueueConsumer(
            queue: Topology.intakeQueue,
            consumer: AMQPConsumer(
                settings: environment.amqp, queue: Topology.intakeQueue, prefetch: 1000,
                topology: IntakeService.topology, logger: TestServers.logger),
            deadLetters: publisher, options: .init(batchSize: 500), logger: TestServers.logger,
            handler: handler.handle)
    }
    let start = ContinuousClock.now
    let rate = try await withThrowingTaskGroup(of: Double?.self) { group in
        for service in services {
            group.addTask {
                try await service.run()
                return nil
            }
        }
        group.addTask {
            try await publishAll(publisher, exchange: Topology.ordersExchange, key: "order.v1")
            while try await environment.pool.query("SELECT count(*) FROM orders")[0].decode(0, as: Int.self) < bodies.count {
                try await Task.sleep(for: .milliseconds(250))
            }
            return Double(bodies.count) / seconds(ContinuousClock.now - start)
        }
        var rate = 0.0
        for try await value in group {
            if let value {
                rate = value
                group.cancelAll()
            }
        }
        return rate
    }
    await publisher.close()
    return rate
}
print(String(format: "intake end to end (validate, store once, outbox): %8.0f orders/s", endToEnd))
print(String(format: "ratio: %.0f%% of the raw broker rate (target 70%%)", endToEnd / raw * 100))
print(String(format: "RESULT | intake end to end, CDNOW master (%d orders) | %.0f orders/s = %.0f%% of the raw broker's %.0f msg/s | >= 70%% |",
             bodies.count, endToEnd, endToEnd / raw * 100, raw))
print(String(format: "RESULT | intake handler alone (decode, validate, store), no broker | %.0f orders/s | |", handlerOnly))
