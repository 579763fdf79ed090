import ArgumentParser
import CRMAMQP
import CRMOutbox
import CRMPostgres
import CRMRuntime
import CRMSchema
import CRMSupport
import Foundation

/// `crm replay-dead QUEUE`: republishes dead letters to where they were first sent, after a fix.
struct ReplayDead: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay-dead",
        abstract: "Republish the dead letters of a queue to their original exchange and routing key.",
        discussion: """
            QUEUE is a consuming queue (intake.orders) or its dead-letter queue (intake.orders.dead). Each \
            message goes back to the exchange and routing key it was first published with, confirmed by the \
            broker before it is removed from the dead-letter queue: a crash replays a message twice, never \
            loses one (every consumer ignores an exact repeat). Only the messages present at the start are \
            replayed, so a message that fails again waits in the dead-letter queue with its new reason.

            A letter goes back only along a binding of QUEUE (an exchange and routing key the queue is bound \
            from): one naming anything else is refused, and one that does not say where it came from is \
            skipped. Both are counted, named and put back at the end of the dead-letter queue with the header \
            x-crm-replay-refused. Internal events (crm.events) are handed to the outbox of the service that \
            owns them (needs CRM_DATABASE_URL), whose relay publishes them under its own account, as the \
            consumers require. --dry-run shows where each letter would go and changes nothing.

            Fix the cause first (an exchange rate, a rule, the upstream system) or the messages come back.
            """
    )

    @Argument(help: "The queue whose dead letters to replay, e.g. intake.orders.")
    var queue: String

    @Option(help: "Replay at most this many messages.")
    var limit: Int?

    @Flag(help: "Only count and describe the dead letters and where each would go; replay nothing.")
    var dryRun = false

    @Flag(
        help: "Print one JSON object: the queue, its depth, the letters replayed and kept, by destination and reason."
    )
    var json = false

    /// The most letters `--dry-run` holds unacknowledged to describe them.
    static let dryRunMaximum = 10_000

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be 1 or more") }
    }

    func run() async throws {
        let environment = CommandEnvironment()
        let amqp = try environment.amqp()
        let source = queue.hasSuffix(".dead") ? String(queue.dropLast(".dead".count)) : queue
        let deadQueue = source + ".dead"
        guard let bindings = Topology.bindings(ofQueue: source) else {
            throw CommandFailure.notFound("\(source) is not a queue of the system: nothing to replay it to")
        }
        let publisher = AMQPPublisher(settings: amqp, name: "crm-replay", logger: environment.logger)
        let depth: Int
        do {
            depth = try await publisher.inspectQueue(deadQueue).messages
        } catch {
            await publisher.close()
            throw CommandFailure.notFound("no queue \(deadQueue) on the broker (run crm migrate, or check the name)")
        }
        var target = min(depth, limit ?? depth)
        if dryRun { target = min(target, Self.dryRunMaximum) }
        guard target > 0 else {
            print(
                json
                    ? try ReplayTally().json(deadQueue: deadQueue, depth: depth, dryRun: dryRun)
                    : "\(deadQueue) is empty: nothing to replay."
            )
            await publisher.close()
            return
        }
        let consumer = AMQPConsumer(
            settings: amqp,
            queue: deadQueue,
            prefetch: UInt16(dryRun ? min(target, 65_535) : 200),
            logger: environment.logger
        )
        var pool: PostgresPool?
        var tally = ReplayTally()
        let progress = dryRun || json ? nil : ProgressBar(total: target, label: "replay \(deadQueue)")
        do {
            var taken = 0
            var last: InboundMessage?
            while taken < target {
                let batch = try await consumer.nextBatch(
                    maxCount: min(dryRun ? target : 200, target - taken),
                    wait: .seconds(5),
                    linger: .milliseconds(20)
                )
                guard let end = batch.last else { break }
                last = end
                taken += batch.count
                let plans = batch.map { ReplayPlan.plan($0, from: source, bindings: bindings) }
                tally.count(batch, plans)
                guard !dryRun else { continue }
                let direct = plans.compactMap { plan -> OutboundMessage? in
                    if case .publish(let message) = plan { return message }
                    return nil
                }
                let handed = plans.compactMap { plan -> (ServiceAccount, OutboundMessage)? in
                    if case .outbox(let account, let message) = plan { return (account, message) }
                    return nil
                }
                let putBack = zip(batch, plans).compactMap { message, plan -> OutboundMessage? in
                    plan.refusal.map { Self.putBack(message, into: source, reason: $0) }
                }
                try await publisher.publish(direct)
                if !handed.isEmpty {
                    let database = try pool ?? environment.pool()
                    pool = database
                    try await database.transaction { connection in
                        for (account, messages) in Dictionary(grouping: handed, by: \.0) {
                            try Outbox(of: account).enqueue(messages.map(\.1), on: connection)
                        }
                    }
                }
                try await publisher.publish(putBack)
                try await consumer.acknowledge(upTo: end)
                progress?.update(taken)
            }
            if dryRun, let last { try await consumer.requeue(upTo: last) }
        } catch {
            await consumer.close()
            await publisher.close()
            await pool?.close()
            throw error
        }
        await consumer.close()
        await publisher.close()
        await pool?.close()
        print(
            json
                ? try tally.json(deadQueue: deadQueue, depth: depth, dryRun: dryRun)
                : tally.report(deadQueue: deadQueue, depth: depth, dryRun: dryRun)
        )
        for warning in tally.warnings { FileHandle.standardError.write(Data("crm: warning: \(warning)\n".utf8)) }
    }

    /// A refused or skipped letter as it goes back to the end of its dead-letter queue, saying why it stays.
    static func putBack(_ message: InboundMessage, into queue: String, reason: String) -> OutboundMessage {
        var headers = message.headers
        headers["x-crm-replay-refused"] = .string(reason)
        return OutboundMessage(
            exchange: Topology.deadLetterExchange,
            routingKey: queue,
            body: message.body,
            headers: headers,
            contentType: message.contentType ?? "application/octet-stream",
            messageID: message.messageID ?? MessageID.random(),
            correlationID: message.correlationID,
            type: message.type,
            timestamp: message.timestamp
        )
    }
}

/// What becomes of one dead letter.
enum ReplayPlan {
    /// Published again by the operator, to a public exchange the queue is bound from.
    case publish(OutboundMessage)
    /// An internal event, handed to the outbox of the service that owns it.
    case outbox(ServiceAccount, OutboundMessage)
    /// Names a destination the queue is not bound from: stays, with the reason.
    case refuse(String)
    /// Does not say where it came from: stays, with a warning.
    case skip(String)

    var refusal: String? {
        switch self {
        case .refuse(let reason), .skip(let reason): reason
        case .publish, .outbox: nil
        }
    }

    /// Where a letter of `queue` goes: back along one of the queue's `bindings`, or nowhere.
    static func plan(_ letter: InboundMessage, from queue: String, bindings: [Topology.Binding]) -> ReplayPlan {
        guard let message = original(letter) else {
            return .skip("says neither x-crm-original-exchange nor x-death: where it came from is unknown")
        }
        guard bindings.contains(Topology.Binding(message.exchange, message.routingKey)) else {
            return .refuse("\(message.exchange) with \(message.routingKey) does not feed \(queue)")
        }
        guard message.exchange == Topology.eventsExchange else { return .publish(message) }
        guard let owner = ServiceAccount.owner(ofEvent: message.routingKey) else {
            return .refuse("no service owns the event \(message.routingKey)")
        }
        guard let text = String(validating: message.body, as: UTF8.self), !text.utf8.contains(0) else {
            return .refuse("an internal event whose body is not text cannot go through an outbox")
        }
        return .outbox(owner, message)
    }

    /// The message as first published: same body, id and properties, without the dead-letter headers; nil when the
    /// letter does not say where it came from.
    static func original(_ message: InboundMessage) -> OutboundMessage? {
        var headers = message.headers
        var exchange = headers["x-crm-original-exchange"]?.stringValue
        var routingKey = headers["x-crm-original-routing-key"]?.stringValue
        if exchange == nil, case .array(let deaths)? = headers["x-death"], case .table(let death)? = deaths.first {
            // Dead-lettered by the broker itself (rejected or expired): x-death names where it came from.
            exchange = death["exchange"]?.stringValue
            if case .array(let keys)? = death["routing-keys"] { routingKey = keys.first?.stringValue }
        }
        guard let exchange, let routingKey else { return nil }
        for key in [
            Topology.errorHeader, "x-crm-original-exchange", "x-crm-original-routing-key", "x-crm-original-user-id",
            "x-crm-dead-lettered-at", "x-crm-replay-refused", "x-death", "x-first-death-exchange",
            "x-first-death-queue", "x-first-death-reason", "x-last-death-exchange", "x-last-death-queue",
            "x-last-death-reason",
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

/// The counts `crm replay-dead` reports: reasons, destinations, refusals.
struct ReplayTally {
    var reasons: [String: Int] = [:]
    var destinations: [String: Int] = [:]
    var refused: [String: Int] = [:]
    var skipped: [String: Int] = [:]
    var warnings: [String] = []
    var total = 0

    mutating func count(_ batch: [InboundMessage], _ plans: [ReplayPlan]) {
        for (message, plan) in zip(batch, plans) {
            total += 1
            reasons[message.headers[Topology.errorHeader]?.stringValue ?? "(none)", default: 0] += 1
            let id = message.messageID ?? "?"
            switch plan {
            case .publish(let out): destinations["\(out.exchange) \(out.routingKey)", default: 0] += 1
            case .outbox(let owner, let out):
                destinations["\(out.exchange) \(out.routingKey) (through \(owner.executable)'s outbox)", default: 0] +=
                    1
            case .refuse(let reason):
                refused[reason, default: 0] += 1
                if warnings.count < 20 { warnings.append("message \(id) refused: \(reason)") }
            case .skip(let reason):
                skipped[reason, default: 0] += 1
                if warnings.count < 20 { warnings.append("message \(id) skipped: \(reason)") }
            }
        }
    }

    /// Letters kept in the dead-letter queue: refused and skipped.
    var kept: Int { refused.values.reduce(0, +) + skipped.values.reduce(0, +) }

    /// `--json`: counts by text, with the numbers as numbers.
    func json(deadQueue: String, depth: Int, dryRun: Bool) throws -> String {
        try JSONOutput.string([
            "queue": deadQueue, "depth": depth, "dry_run": dryRun, "taken": total,
            "replayed": dryRun ? 0 : total - kept, "kept": kept, "destinations": destinations,
            "refused": refused, "skipped": skipped, "reasons": reasons,
        ])
    }

    func report(deadQueue: String, depth: Int, dryRun: Bool) -> String {
        var lines: [String] = []
        if dryRun {
            lines.append("\(deadQueue) holds \(depth) dead letters; the first \(total) would go:")
        } else {
            lines.append(
                "Replayed \(total - kept) of \(depth) dead letters from \(deadQueue); \(kept) kept. They went:"
            )
        }
        func section(_ counts: [String: Int], _ prefix: String) {
            for (text, count) in counts.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
                lines.append("  \(count)  \(prefix)\(text)")
            }
        }
        section(destinations, "→ ")
        if !refused.isEmpty {
            lines.append("Refused (kept in \(deadQueue)):")
            section(refused, "")
        }
        if !skipped.isEmpty {
            lines.append("Skipped (kept in \(deadQueue)):")
            section(skipped, "")
        }
        lines.append("Reasons they had:")
        section(reasons, "")
        return lines.joined(separator: "\n")
    }
}
