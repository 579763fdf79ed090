import CRMAMQP
import CRMContract
import CRMOutbox
import CRMRuntime
import CRMSchema
import CRMSupport
import Foundation
import Intake
import Synchronization
import TestSupport

// Intake throughput against the broker's own ceiling, measured in the same run on the same machine:
//   raw  — a plain client publishes the CDNOW master (confirms streamed, as `crm load-orders` does) into a durable queue while a
//          plain consumer takes and acks it in batches: the rate the broker allows;
//   e2e  — the same messages published while intake, as the service runs it (its batch size, consumers and
//          outbox relay), validates and stores them in PostgreSQL and publishes the `order.accepted` events.
// `--ack-delay MS` adds the raw client acking each batch MS milliseconds after it arrived while it goes on consuming,
// as a commit holds intake's acks back.
// Run with scripts/bench.sh (release build, servers from scripts/servers.sh); --help for the options.

let options = BenchmarkOptions.parseOrExit()

let (_, bodies) = try OrderFile.bodies(of: URL(fileURLWithPath: options.file))
print("messages: \(bodies.count) from \((options.file as NSString).lastPathComponent)")

if options.stages.contains(.decode) {
    var figures = Figures()
    for _ in 0..<max(options.runs, 3) {
        let start = ContinuousClock.now
        var fingerprintBytes = 0
        for body in bodies {
            fingerprintBytes += try OrderMessage.decodeChecked(body: body).contentHash.utf8.count
        }
        figures.values.append(Double(bodies.count) / (ContinuousClock.now - start).seconds)
        precondition(fingerprintBytes > 0)
    }
    print(
        String(
            format: "decode + validate + content fingerprint alone:    %8.0f msg/s best, %8.0f median (one core)",
            figures.best,
            figures.median
        )
    )
}

if options.stages.contains(.handler) {
    // Alternating with the triggers that keep customer_activity and without them (dropped in that run's database):
    // what summing each batch's customers up costs intake.
    var figures = Figures()
    var without = Figures()
    for _ in 0..<options.runs {
        figures.values.append(try await handlerAlone())
        without.values.append(try await handlerAlone(activity: false))
    }
    print(
        String(
            format: "intake handler alone, batches of %4d, no broker: %8.0f orders/s best, %8.0f median",
            options.batchSize,
            figures.best,
            figures.median
        )
    )
    print(
        String(
            format: "  the same without the customer_activity triggers: %8.0f orders/s best, %8.0f median",
            without.best,
            without.median
        )
    )
    print(
        String(
            format: "RESULT | intake handler alone (decode, validate, store), no broker | %.0f orders/s | |",
            figures.median
        )
    )
    print(
        String(
            format:
                "RESULT | intake handler alone, with the customer_activity triggers against without (medians, same run) | %.0f against %.0f orders/s: %+.0f%% | |",
            figures.median,
            without.median,
            (figures.median / without.median - 1) * 100
        )
    )
}

var raws = Figures()
var delayedRaws = Figures()
var ends = Figures()
var ratios = Figures()
for run in 1...options.runs where options.stages.contains(.raw) || options.stages.contains(.e2e) {
    var line = "run \(run):"
    var pair: (raw: Double?, e2e: Double?) = (nil, nil)
    if options.stages.contains(.raw) {
        let rate = try await rawBroker()
        raws.values.append(rate)
        pair.raw = rate
        line += String(format: "  raw broker %8.0f msg/s", rate)
        if let delay = options.ackDelay {
            let delayed = try await rawBroker(ackDelay: .milliseconds(delay))
            delayedRaws.values.append(delayed)
            line += String(format: "  (acks %d ms late: %8.0f msg/s)", delay, delayed)
        }
    }
    if options.stages.contains(.e2e) {
        let rate = try await endToEnd()
        ends.values.append(rate)
        pair.e2e = rate
        line += String(format: "  intake end to end %8.0f orders/s", rate)
    }
    if let raw = pair.raw, let e2e = pair.e2e {
        ratios.values.append(e2e / raw * 100)
        line += String(format: "  ratio %3.0f%%", e2e / raw * 100)
    }
    print(line)
}
if !raws.values.isEmpty {
    print(
        String(
            format: "raw broker (publish + consume, durable queue):    %8.0f msg/s best, %8.0f median",
            raws.best,
            raws.median
        )
    )
}
if let delay = options.ackDelay, !delayedRaws.values.isEmpty {
    print(
        String(
            format: "raw broker, every ack %3d ms late:                %8.0f msg/s best, %8.0f median",
            delay,
            delayedRaws.best,
            delayedRaws.median
        )
    )
    print(
        String(
            format: "RESULT | raw client acking each batch %d ms after it arrived, consuming on | %.0f msg/s | |",
            delay,
            delayedRaws.median
        )
    )
}
if !ends.values.isEmpty {
    print(
        String(
            format:
                "intake end to end (validate, store once, outbox): %8.0f orders/s best, %8.0f median (%d consumers, batches of %d)",
            ends.best,
            ends.median,
            options.consumers,
            options.batchSize
        )
    )
}
if !ratios.values.isEmpty {
    print(
        String(
            format: "ratio: %.0f%% best, %.0f%% median of the raw broker rate in the same run (target 70%%)",
            ratios.best,
            ratios.median
        )
    )
    print(
        String(
            format:
                "RESULT | intake end to end, CDNOW master (%d orders) | %.0f orders/s = %.0f%% of the raw broker's %.0f msg/s | >= 70%% |",
            bodies.count,
            ends.median,
            ratios.median,
            raws.median
        )
    )
}

// MARK: - Stages

/// Drops the triggers on `orders` that keep `customer_activity`, in the environment's database.
func dropActivityTriggers(_ environment: TestEnvironment) async throws {
    for trigger in ["orders_activity_inserted", "orders_activity_updated", "orders_activity_deleted"] {
        try await environment.pool.execute("DROP TRIGGER \(trigger) ON orders")
    }
}

/// The handler alone (decode, validate, one transaction per batch), without the broker; with `activity` false, without
/// the triggers on `orders` that keep `customer_activity`.
func handlerAlone(activity: Bool = true) async throws -> Double {
    try await TestServers.withEnvironment { environment in
        if !activity { try await dropActivityTriggers(environment) }
        let handler = OrderIntakeHandler(pool: environment.pool, outbox: Outbox(of: .intake), baseCurrency: "USD")
        let messages = bodies.map { InboundMessage(body: $0) }
        let start = ContinuousClock.now
        for batchStart in stride(from: 0, to: messages.count, by: options.batchSize) {
            _ = try await handler.handle(
                Array(messages[batchStart..<min(batchStart + options.batchSize, messages.count)])
            )
        }
        return Double(messages.count) / (ContinuousClock.now - start).seconds
    }
}

func publishAll(_ publisher: AMQPPublisher, exchange: String, key: String) async throws {
    try await publisher.publish(
        streaming: bodies.map { OutboundMessage(exchange: exchange, routingKey: key, body: $0) },
        window: options.publishWindow
    )
}

/// A plain client publishing into a durable queue while a plain consumer takes and acks in batches. With `ackDelay`,
/// each batch's ack goes out that long after the batch arrived, while the consumer goes on taking the next ones (as a
/// consumer whose commit holds its acks back does), within the prefetch intake itself uses.
func rawBroker(ackDelay: Duration = .zero) async throws -> Double {
    try await TestServers.withEnvironment(migrate: false) { environment in
        let topology = Topology(
            exchanges: [Topology.Exchange("bench")],
            queues: [Topology.Queue("bench.raw", bindings: [.init("bench", "raw")], deadLettered: false)]
        )
        let publisher = AMQPPublisher(
            settings: environment.amqp,
            name: "bench",
            topology: topology,
            logger: TestServers.logger
        )
        try await publisher.connect()
        let prefetch = ackDelay > .zero ? UInt16(min(options.prefetch ?? options.batchSize * 2, 65535)) : 500
        let consumer = AMQPConsumer(
            settings: environment.amqp,
            queue: "bench.raw",
            prefetch: prefetch,
            topology: topology,
            logger: TestServers.logger
        )
        let start = ContinuousClock.now
        async let published: Void = publishAll(publisher, exchange: "bench", key: "raw")
        var received = 0
        var held: [(last: InboundMessage, due: ContinuousClock.Instant)] = []
        while received < bodies.count {
            let wait = held.first.map { max($0.due - .now, .milliseconds(1)) } ?? .seconds(10)
            let batch = try await consumer.nextBatch(maxCount: 250, wait: wait, linger: .milliseconds(5))
            if let last = batch.last {
                received += batch.count
                if ackDelay == .zero {
                    try await consumer.acknowledge(upTo: last)
                    continue
                }
                held.append((last, .now + ackDelay))
            } else if held.isEmpty {
                break
            }
            // One ack (multiple) for every batch that is due.
            if let due = held.lastIndex(where: { $0.due <= .now }) {
                try await consumer.acknowledge(upTo: held[due].last)
                held.removeFirst(due + 1)
            }
        }
        if let last = held.last {
            try await Task.sleep(until: last.due)
            try await consumer.acknowledge(upTo: last.last)
        }
        try await published
        let elapsed = ContinuousClock.now - start
        await consumer.close()
        await publisher.close()
        return Double(received) / elapsed.seconds
    }
}

/// Intake consuming while the file is published, its relay publishing the events; done when every order's batch has
/// committed and the outbox is empty.
func endToEnd() async throws -> Double {
    try await TestServers.withEnvironment { environment in
        if options.withoutActivity { try await dropActivityTriggers(environment) }
        // Scoring's queue takes the events, as in a deployment (nothing consumes them here).
        let topology = IntakeService.topology.merging(Topology.scoring)
        let publisher = AMQPPublisher(
            settings: environment.amqp,
            name: "bench",
            topology: topology,
            logger: TestServers.logger
        )
        try await publisher.connect()
        let relay = OutboxRelay(
            source: ServiceAccount.intake.outboxSource,
            pool: environment.pool,
            publisher: AMQPPublisher(
                settings: environment.amqp,
                name: "relay",
                topology: topology,
                logger: TestServers.logger
            ),
            logger: TestServers.logger
        )
        let handler = OrderIntakeHandler(pool: environment.pool, outbox: Outbox(relay: relay), baseCurrency: "USD")
        // Counted after the handler returns, that is after the batch's commit: exact, and costs the servers nothing.
        let committed = CommitCount()
        let services = (0..<options.consumers).map { _ in
            QueueConsumer(
                queue: Topology.intakeQueue,
                consumer: AMQPConsumer(
                    settings: environment.amqp,
                    queue: Topology.intakeQueue,
                    prefetch: UInt16(min(options.prefetch ?? options.batchSize * 2, 65535)),
                    topology: IntakeService.topology,
                    logger: TestServers.logger
                ),
                deadLetters: publisher,
                options: .init(batchSize: options.batchSize),
                logger: TestServers.logger,
                handler: .init(prepare: handler.prepare) { batch, prepared in
                    let dispositions = try await handler.commit(batch, prepared)
                    committed.value.add(dispositions.count { $0 == .processed }, ordering: .relaxed)
                    return dispositions
                }
            )
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
                try await relay.run()
                return nil
            }
            group.addTask {
                try await publishAll(publisher, exchange: Topology.ordersExchange, key: "order.v1")
                while committed.value.load(ordering: .relaxed) < bodies.count {
                    try await Task.sleep(for: .milliseconds(10))
                }
                while try await environment.pool.query("SELECT EXISTS (SELECT 1 FROM crm_outbox)")[0].decode(
                    0,
                    as: Bool.self
                ) {
                    try await Task.sleep(for: .milliseconds(10))
                }
                return Double(bodies.count) / (ContinuousClock.now - start).seconds
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
        let stored = try await environment.pool.query("SELECT count(*) FROM orders")[0].decode(0, as: Int.self)
        precondition(stored == bodies.count, "stored \(stored) orders of \(bodies.count)")
        return rate
    }
}

/// Orders whose batch has committed, shared by the consumers of one run.
final class CommitCount: Sendable {
    let value = Atomic<Int>(0)
}
