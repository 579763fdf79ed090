import Logging
import Metrics
import ServiceLifecycle

/// What became of one message of a batch.
public enum MessageDisposition: Sendable, Equatable {
    /// Its effects are committed; acknowledge it.
    case processed
    /// It can never be processed: publish it to `<queue>.dead` with this reason, then acknowledge it.
    case deadLetter(reason: String)
}

/// An error that says whether trying the same work again later may succeed.
public protocol TransientClassifiable: Error {
    /// True for outages (connection lost, server restarting, serialization failure), false for bad data.
    var isTransient: Bool { get }
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
/// - On graceful shutdown it stops taking batches, finishes the one in hand, and closes.
public struct QueueConsumer: Service {
    public typealias Handler = @Sendable ([InboundMessage]) async throws -> [MessageDisposition]

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
    private let handler: Handler
    private let consumed: Counter
    private let deadLettered: Counter
    private let batchSizes: Recorder
    private let batchTime: Timer

    public init(
        queue: String, consumer: AMQPConsumer, deadLetters: AMQPPublisher, options: Options = Options(),
        logger: Logger, handler: @escaping Handler
    ) {
        self.queue = queue
        self.consumer = consumer
        self.deadLetters = deadLetters
        self.options = options
        self.logger = logger
        self.handler = handler
        consumed = Counter(label: "crm_amqp_messages_consumed_total", dimensions: [("queue", queue)])
        deadLettered = Counter(label: "crm_amqp_dead_lettered_total", dimensions: [("queue", queue)])
        batchSizes = Recorder(label: "crm_amqp_batch_size", dimensions: [("queue", queue)])
        batchTime = Timer(label: "crm_amqp_batch_seconds", dimensions: [("queue", queue)])
    }

    public func run() async throws {
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let batch: [InboundMessage]
            do {
                batch = try await consumer.nextBatch(
                    maxCount: options.batchSize, wait: .milliseconds(500), linger: options.linger)
                failures = 0
            } catch {
                failures += 1
                logger.warning(
                    "Cannot consume; retrying", metadata: ["amqp.queue": "\(queue)", "error": "\(error)"])
                try? await gracefulSleep(backoff(failures))
                continue
            }
            guard let last = batch.last else { continue }
            let start = ContinuousClock.now
            guard let dispositions = await dispositions(for: batch) else { break }
            guard await settle(batch, dispositions) else { break }
            do {
                try await consumer.acknowledge(upTo: last)
            } catch {
                logger.warning("Ack failed; the broker will redeliver", metadata: ["error": "\(error)"])
            }
            consumed.increment(by: batch.count)
            batchSizes.record(batch.count)
            batchTime.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
        }
        await consumer.close()
        logger.info("Stopped consuming", metadata: ["amqp.queue": "\(queue)"])
    }

    /// The handler's verdicts, retrying outages; `nil` when shutdown interrupted the retries.
    private func dispositions(for batch: [InboundMessage]) async -> [MessageDisposition]? {
        var attempt = 0
        while true {
            do {
                let result = try await handler(batch)
                precondition(result.count == batch.count, "handler must return one disposition per message")
                return result
            } catch let error as any TransientClassifiable where error.isTransient {
                attempt += 1
                logger.warning(
                    "Batch failed on an outage; retrying",
                    metadata: ["amqp.queue": "\(queue)", "error": "\(error)", "attempt": "\(attempt)"])
                if Task.isShuttingDownGracefully { return nil }
                try? await gracefulSleep(backoff(attempt))
                if Task.isShuttingDownGracefully { return nil }
            } catch {
                guard batch.count > 1 else {
                    logger.error("Message failed; dead-lettering", metadata: ["error": "\(error)"])
                    return [.deadLetter(reason: "processing failed: \(error)")]
                }
                // Narrow the failure down: each message on its own, so only the culprit is dead-lettered.
                var result: [MessageDisposition] = []
                for message in batch {
                    guard let single = await dispositions(for: [message]) else { return nil }
                    result.append(contentsOf: single)
                }
                return result
            }
        }
    }

    /// Publishes the dead letters with confirms; `false` when shutdown interrupted the retries.
    private func settle(_ batch: [InboundMessage], _ dispositions: [MessageDisposition]) async -> Bool {
        let letters = zip(batch, dispositions).compactMap { message, disposition -> OutboundMessage? in
            guard case .deadLetter(let reason) = disposition else { return nil }
            logger.info(
                "Dead-lettered",
                metadata: ["amqp.queue": "\(queue)", "message.id": "\(message.messageID ?? "-")", "reason": "\(reason)"])
            return .deadLetter(of: message, fromQueue: queue, reason: reason)
        }
        guard !letters.isEmpty else { return true }
        var attempt = 0
        while true {
            do {
                try await deadLetters.publish(letters)
                deadLettered.increment(by: letters.count)
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

/// Capped exponential back-off with jitter.
public enum Backoff {
    /// 100 ms doubled per attempt up to `max`, with up to 20% random jitter so replicas spread out.
    public static func delay(attempt: Int, base: Duration = .milliseconds(100), max: Duration) -> Duration {
        let exponent = Swift.min(attempt - 1, 20)
        let raw = base * (1 << Swift.max(exponent, 0))
        let capped = Swift.min(raw, max)
        return capped * Double.random(in: 0.8...1.0)
    }
}
