import ArgumentParser
import CRMAMQP
import CRMSupport
import Foundation

/// `crm replay-dead QUEUE`: republishes dead letters to where they were first sent, after a fix.
struct ReplayDead: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay-dead",
        abstract: "Republish the dead letters of a queue to their original exchange and routing key.",
        discussion: """
            QUEUE is a consuming queue (intake.orders) or its dead-letter queue (intake.orders.dead). Each
            message goes back to the exchange and routing key it was first published with, confirmed by the
            broker before it is removed from the dead-letter queue: a crash replays a message twice, never
            loses one (every consumer ignores an exact repeat). Only the messages present at the start are
            replayed, so a message that fails again waits in the dead-letter queue with its new reason.
            Fix the cause first (an exchange rate, a rule, the upstream system) or the messages come back.
            """
    )

    @Argument(help: "The queue whose dead letters to replay, e.g. intake.orders.")
    var queue: String

    @Option(help: "Replay at most this many messages.")
    var limit: Int?

    @Flag(help: "Only count and describe the dead letters; replay nothing.")
    var dryRun = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be 1 or more") }
    }

    func run() async throws {
        let environment = CommandEnvironment()
        let amqp = try environment.amqp()
        let deadQueue = queue.hasSuffix(".dead") ? queue : queue + ".dead"
        let publisher = AMQPPublisher(settings: amqp, name: "crm-replay", logger: environment.logger)
        let depth: Int
        do {
            depth = try await publisher.inspectQueue(deadQueue).messages
        } catch {
            await publisher.close()
            throw CommandFailure.notFound("no queue \(deadQueue) on the broker (run crm migrate, or check the name)")
        }
        let target = min(depth, limit ?? depth)
        guard target > 0 else {
            print("\(deadQueue) is empty: nothing to replay.")
            await publisher.close()
            return
        }
        let consumer = AMQPConsumer(settings: amqp, queue: deadQueue, prefetch: 200, logger: environment.logger)
        var replayed = 0
        var reasons: [String: Int] = [:]
        let progress = dryRun ? nil : ProgressBar(total: target, label: "replay \(deadQueue)")
        do {
            while replayed < target {
                let batch = try await consumer.nextBatch(
                    maxCount: min(200, target - replayed),
                    wait: .seconds(5),
                    linger: .milliseconds(20)
                )
                guard let last = batch.last else { break }
                for message in batch {
                    reasons[message.headers[Topology.errorHeader]?.stringValue ?? "(none)", default: 0] += 1
                }
                if dryRun {
                    try await consumer.requeue(upTo: last)
                    replayed += batch.count
                    break
                }
                let messages = try batch.map(Self.original)
                try await publisher.publish(messages)
                try await consumer.acknowledge(upTo: last)
                replayed += batch.count
                progress?.update(replayed)
            }
        } catch {
            await consumer.close()
            await publisher.close()
            throw error
        }
        await consumer.close()
        await publisher.close()
        if dryRun {
            print("\(deadQueue) holds \(depth) dead letters; reasons in the first \(replayed):")
        } else {
            print("Replayed \(replayed) of \(depth) dead letters from \(deadQueue). Reasons they had:")
        }
        for (reason, count) in reasons.sorted(by: { $0.value > $1.value }) { print("  \(count)  \(reason)") }
    }

    /// The message as first published: same body, id and properties, without the dead-letter headers.
    static func original(_ message: InboundMessage) throws -> OutboundMessage {
        var headers = message.headers
        var exchange = headers["x-crm-original-exchange"]?.stringValue
        var routingKey = headers["x-crm-original-routing-key"]?.stringValue
        if exchange == nil, case .array(let deaths)? = headers["x-death"], case .table(let death)? = deaths.first {
            // Dead-lettered by the broker itself (rejected or expired): x-death names where it came from.
            exchange = death["exchange"]?.stringValue
            if case .array(let keys)? = death["routing-keys"] { routingKey = keys.first?.stringValue }
        }
        guard let exchange, let routingKey else {
            throw CommandFailure.notFound(
                "a dead letter (message id \(message.messageID ?? "?")) does not say where it came from"
            )
        }
        for key in [
            Topology.errorHeader, "x-crm-original-exchange", "x-crm-original-routing-key",
            "x-crm-dead-lettered-at", "x-death", "x-first-death-exchange", "x-first-death-queue",
            "x-first-death-reason", "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason",
        ] {
            headers[key] = nil
        }
        let replays = Int(headers["x-crm-replays"]?.stringValue ?? "") ?? 0
        headers["x-crm-replays"] = .string(String(replays + 1))
        return OutboundMessage(
            exchange: exchange,
            routingKey: routingKey,
            body: message.body,
            headers: headers,
            contentType: message.contentType ?? "application/json",
            messageID: message.messageID ?? MessageID.random(),
            correlationID: message.correlationID,
            type: message.type,
            timestamp: message.timestamp
        )
    }
}
