import CRMContract
import CRMSupport
import Logging
import Metrics
import ServiceLifecycle

/// What became of one message of a batch.
public enum MessageDisposition: Sendable, Equatable {
    /// Its effects are committed; acknowledge it.
    case processed
    /// It can never be processed: publish it to `<queue>.dead` with the rejection's reason, then acknowledge it.
    case deadLetter(MessageRejection)
}

extension AMQPError: TransientClassifiable {}

/// Runs a queue's consumption for a service: batches in, dispositions out, acks only after.
///
/// - A batch goes to the handler, which commits its effects (typically one transaction) and says
///   which messages are dead letters. Those are published to `crm.dead` with `x-crm-error` and
///   confirmed; only then is the batch acknowledged, with one multiple-ack.
/// - A transient failure (broker or database away) retries the same batch with capped exponential
///   back-off; nothing is acknowledged meanwhile.
/// - Any other failure of a batch is narrowed down message by message, so one poisonous message is
///   dead-lettered with the error as its reason and the valid ones around it still flow.
/// - On graceful shutdown it stops taking batches, finishes the one in hand, and closes. Cancelled instead, it
///   settles nothing the cancellation made fail: those messages stay unacknowledged for the broker to redeliver.
/// - With a ``StagedHandler``, messages are prepared (decoded, validated) as they are taken: those already arrived
///   when a batch's commit starts are prepared during it and, topped up with what arrived by its end, make the next
///   batch. They are acknowledged only after their own commit, and left unacknowledged on shutdown.
public struct QueueConsumer: Service {
    public typealias Handler = @Sendable ([InboundMessage]) async throws -> [MessageDisposition]

    /// A handler in two steps, so that the CPU work on the next messages overlaps the current batch's commit.
    public struct StagedHandler<Prepared: Sendable>: Sendable {
        /// Work without effects on one message (decoding, validating); may run while an earlier batch commits.
        public var prepare: @Sendable (InboundMessage) -> Prepared
        /// Commits a batch's effects from its messages' preparations; one disposition per message.
        public var commit: @Sendable ([InboundMessage], [Prepared]) async throws -> [MessageDisposition]

        public init(
            prepare: @escaping @Sendable (InboundMessage) -> Prepared,
            commit: @escaping @Sendable ([InboundMessage], [Prepared]) async throws -> [MessageDisposition]
        ) {
            self.prepare = prepare
            self.commit = commit
        }
    }

    /// How a queue is consumed.
    public struct Options: Sendable {
        public var batchSize: Int
        /// How long to wait for a batch to fill once its first message arrived.
        public var linger: Duration
        public var maxBackoff: Duration

        public init(batchSize: Int = 250, linger: Duration = .milliseconds(5), maxBackoff: Duration = .seconds(30)) {
            self.batchSize = batchSize
            self.linger = linger
            self.maxBackoff = maxBackoff
        }
    }

    private let queue: String
    private let consumer: AMQPConsumer
    private let deadLetters: AMQPPublisher
    private let options: Options
    private let logger: Logger
    /// The consumption loop, specialised for the handler's preparation type.
    private let loop: @Sendable (QueueConsumer) async -> Void
    private let consumed: Counter
    /// Dead letters by the rejection's code: a closed set of label values, whatever senders put in messages.
    private let deadLettered: [MessageRejection.Code: Counter]
    private let batchSizes: Recorder
    private let batchTime: Timer

    public init(
        queue: String,
        consumer: AMQPConsumer,
        deadLetters: AMQPPublisher,
        options: Options = Options(),
        logger: Logger,
        handler: @escaping Handler
    ) {
        let staged = StagedHandler<Void>(prepare: { _ in }, commit: { batch, _ in try await handler(batch) })
        self.init(
            queue: queue,
            consumer: consumer,
            deadLetters: deadLetters,
            options: options,
            logger: logger,
            loop: { await $0.consume(staged, lookahead: false) }
        )
    }

    public init<Prepared: Sendable>(
        queue: String,
        consumer: AMQPConsumer,
        deadLetters: AMQPPublisher,
        options: Options = Options(),
        logger: Logger,
        handler: StagedHandler<Prepared>
    ) {
        self.init(
            queue: queue,
            consumer: consumer,
            deadLetters: deadLetters,
            options: options,
            logger: logger,
            loop: { await $0.consume(handler, lookahead: true) }
        )
    }

    private init(
        queue: String,
        consumer: AMQPConsumer,
        deadLetters: AMQPPublisher,
        options: Options,
        logger: Logger,
        loop: @escaping @Sendable (QueueConsumer) async -> Void
    ) {
        self.queue = queue
        self.consumer = consumer
        self.deadLetters = deadLetters
        self.options = options
        self.logger = logger
        self.loop = loop
        consumed = Counter(label: "crm_amqp_messages_consumed_total", dimensions: [("queue", queue)])
        deadLettered = Dictionary(
            uniqueKeysWithValues: MessageRejection.Code.allCases.map { code in
                (
                    code,
                    Counter(
                        label: "crm_amqp_dead_lettered_total",
                        dimensions: [("queue", queue), ("reason", code.rawValue)]
                    )
                )
            }
        )
        batchSizes = Recorder(label: "crm_amqp_batch_size", dimensions: [("queue", queue)])
        batchTime = Timer(label: "crm_amqp_batch_seconds", dimensions: [("queue", queue)])
    }

    public func run() async throws {
        await loop(self)
        await consumer.close()
        logger.info("Stopped consuming", metadata: ["amqp.queue": "\(queue)"])
    }

    /// Messages taken from the queue with their preparations, in delivery order.
    private struct Taken<Prepared: Sendable> {
        var messages: [InboundMessage] = []
        var prepared: [Prepared] = []

        mutating func append(_ more: [InboundMessage], _ handler: StagedHandler<Prepared>) {
            messages += more
            prepared += more.map(handler.prepare)
        }
    }

    private func consume<Prepared: Sendable>(_ handler: StagedHandler<Prepared>, lookahead: Bool) async {
        var failures = 0
        // Messages that arrived while the previous batch committed, already prepared.
        var ahead = Taken<Prepared>()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var batch = ahead
            ahead = Taken()
            do {
                if batch.messages.isEmpty {
                    batch.append(
                        try await consumer.nextBatch(
                            maxCount: options.batchSize,
                            wait: .milliseconds(500),
                            linger: options.linger
                        ),
                        handler
                    )
                } else if batch.messages.count < options.batchSize {
                    // Topped up with what arrived by the end of the previous commit.
                    batch.append(
                        try await consumer.arrivedBatch(maxCount: options.batchSize - batch.messages.count),
                        handler
                    )
                }
                failures = 0
            } catch {
                failures += 1
                logger.warning(
                    "Cannot consume; retrying",
                    metadata: ["amqp.queue": "\(queue)", "error": "\(error)"]
                )
                try? await gracefulSleep(backoff(failures))
                continue
            }
            guard let last = batch.messages.last else { continue }
            let start = ContinuousClock.now
            // The batch's span links every message's trace; what the handler publishes or writes continues it.
            async let verdicts = MessageTracing.withBatchSpan(queue: queue, messages: batch.messages) {
                await dispositions(for: batch.messages, prepared: batch.prepared, handler)
            }
            if lookahead, let arrived = try? await consumer.arrivedBatch(maxCount: options.batchSize) {
                ahead.append(arrived, handler)
            }
            guard let dispositions = await verdicts else { break }
            guard await settle(batch.messages, dispositions) else { break }
            do {
                try await consumer.acknowledge(upTo: last)
            } catch {
                // The messages taken ahead came on the same connection: the broker redelivers them too.
                ahead = Taken()
                logger.warning("Ack failed; the broker will redeliver", metadata: ["error": "\(error)"])
            }
            consumed.increment(by: batch.messages.count)
            batchSizes.record(batch.messages.count)
            batchTime.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
        }
    }

    /// The handler's verdicts, retrying outages; `nil` when shutdown interrupted the retries.
    private func dispositions<Prepared: Sendable>(
        for batch: [InboundMessage],
        prepared: [Prepared],
        _ handler: StagedHandler<Prepared>
    ) async -> [MessageDisposition]? {
        var attempt = 0
        while true {
            do {
                let result = try await handler.commit(batch, prepared)
                precondition(result.count == batch.count, "handler must return one disposition per message")
                return result
            } catch  where Task.isCancelled {
                // Stopping abruptly: whatever failed stays unacknowledged, and the broker redelivers it.
                logger.warning(
                    "Batch interrupted by cancellation",
                    metadata: ["amqp.queue": "\(queue)", "error": "\(error)"]
                )
                return nil
            } catch let error as any TransientClassifiable where error.isTransient {
                attempt += 1
                logger.warning(
                    "Batch failed on an outage; retrying",
                    metadata: ["amqp.queue": "\(queue)", "error": "\(error)", "attempt": "\(attempt)"]
                )
                if Task.isShuttingDownGracefully { return nil }
                try? await gracefulSleep(backoff(attempt))
                if Task.isShuttingDownGracefully { return nil }
            } catch {
                guard batch.count > 1 else {
                    // The reason names what failed, never a value: a database's message can quote the very data
                    // that broke it. The statement (without values) goes to the debug log.
                    let failure = failureSummary(of: error)
                    let message = batch[0].messageID ?? "-"
                    logger.error(
                        "Message failed; dead-lettering",
                        metadata: ["amqp.queue": "\(queue)", "message.id": "\(message)", "error": "\(failure.summary)"]
                    )
                    logger.debug(
                        "Message failure",
                        metadata: [
                            "amqp.queue": "\(queue)", "message.id": "\(message)", "error.detail": "\(failure.detail)",
                        ]
                    )
                    return [
                        .deadLetter(
                            MessageRejection(.processingFailed, field: "", "processing failed: \(failure.summary)")
                        )
                    ]
                }
                // Narrow the failure down: each message on its own, so only the culprit is dead-lettered.
                var result: [MessageDisposition] = []
                for (message, preparation) in zip(batch, prepared) {
                    guard let single = await dispositions(for: [message], prepared: [preparation], handler) else {
                        return nil
                    }
                    result.append(contentsOf: single)
                }
                return result
            }
        }
    }

    /// Publishes the dead letters with confirms; `false` when shutdown interrupted the retries.
    private func settle(_ batch: [InboundMessage], _ dispositions: [MessageDisposition]) async -> Bool {
        var codes: [MessageRejection.Code] = []
        let letters = zip(batch, dispositions).compactMap { message, disposition -> OutboundMessage? in
            guard case .deadLetter(let rejection) = disposition else { return nil }
            logger.info(
                "Dead-lettered",
                metadata: [
                    "amqp.queue": "\(queue)", "message.id": "\(message.messageID ?? "-")",
                    "reason": "\(rejection.reason)",
                ]
            )
            codes.append(rejection.code)
            return .deadLetter(of: message, fromQueue: queue, reason: rejection.reason)
        }
        guard !letters.isEmpty else { return true }
        var attempt = 0
        while true {
            do {
                try await deadLetters.publish(letters)
                for code in codes { deadLettered[code]?.increment() }
                return true
            } catch {
                attempt += 1
                logger.warning("Dead-letter publish failed; retrying", metadata: ["error": "\(error)"])
                if Task.isShuttingDownGracefully { return false }
                try? await gracefulSleep(backoff(attempt))
            }
        }
    }

    private func backoff(_ attempt: Int) -> Duration {
        Backoff.delay(attempt: attempt, max: options.maxBackoff)
    }
}
