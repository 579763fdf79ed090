import CRMAMQP
import CRMSupport

/// How a service consumes its queues, read the same way for every service from `CRM_<SERVICE>_BATCH_SIZE`,
/// `_PREFETCH`, `_CONSUMERS` and `_LINGER`.
public struct ConsumerSettings: Sendable, Equatable {
    /// Most messages in one batch, handled in one transaction (1 to 5000).
    public var batchSize: Int
    /// Messages the broker may send ahead per consumer, unacknowledged (1 to 65535); twice the batch by default,
    /// so the next batch arrives while one commits.
    public var prefetch: Int
    /// Consumers of each queue per process, each on its own connection (1 to 16).
    public var consumers: Int
    /// How long a batch waits to fill once its first message has arrived.
    public var linger: Duration

    /// Settings with the given values; the prefetch defaults to twice the batch.
    public init(batchSize: Int, prefetch: Int? = nil, consumers: Int = 1, linger: Duration = .milliseconds(5)) {
        self.batchSize = batchSize
        self.prefetch = prefetch ?? batchSize * 2
        self.consumers = consumers
        self.linger = linger
    }

    /// Reads `CRM_<prefix>_BATCH_SIZE`, `_PREFETCH`, `_CONSUMERS` and `_LINGER`; an unset one takes the default given
    /// here (an unset prefetch is twice the batch). The error names the variable.
    public init(
        _ settings: Settings,
        prefix: String,
        batchSize: Int,
        consumers: Int = 1,
        linger: Duration = .milliseconds(5)
    ) throws(SettingsError) {
        let variable = { (name: String) in "CRM_\(prefix)_\(name)" }
        let batchSize = try settings.int(variable("BATCH_SIZE"), default: batchSize, in: 1...5000)
        self.init(
            batchSize: batchSize,
            prefetch: try settings.int(variable("PREFETCH"), default: batchSize * 2, in: 1...65535),
            consumers: try settings.int(variable("CONSUMERS"), default: consumers, in: 1...16),
            linger: try settings.duration(variable("LINGER"), default: linger)
        )
    }

    /// The options of each ``QueueConsumer``.
    var options: QueueConsumer.Options {
        QueueConsumer.Options(batchSize: batchSize, linger: linger)
    }
}

extension ServiceContext {
    /// `settings.consumers` consumers of `queue`, each on a connection of its own that checks `topology` exists when it
    /// opens, dead-lettering through the context's publisher. With `publishers`, a message its check refuses is
    /// dead-lettered and never reaches `handler`.
    public func consumers(
        of queue: String,
        topology: Topology,
        settings: ConsumerSettings,
        publishers: PublisherCheck? = nil,
        handler: @escaping QueueConsumer.Handler
    ) -> [QueueConsumer] {
        let handler = publishers?.guarding(handler) ?? handler
        return consumers(of: queue, topology: topology, settings: settings) { consumer in
            QueueConsumer(
                queue: queue,
                consumer: consumer,
                deadLetters: publisher,
                options: settings.options,
                logger: logger,
                handler: handler
            )
        }
    }

    /// Consumers whose handler prepares each message as it is taken, while the previous batch commits.
    public func consumers<Prepared: Sendable>(
        of queue: String,
        topology: Topology,
        settings: ConsumerSettings,
        handler: QueueConsumer.StagedHandler<Prepared>
    ) -> [QueueConsumer] {
        consumers(of: queue, topology: topology, settings: settings) { consumer in
            QueueConsumer(
                queue: queue,
                consumer: consumer,
                deadLetters: publisher,
                options: settings.options,
                logger: logger,
                handler: handler
            )
        }
    }

    private func consumers(
        of queue: String,
        topology: Topology,
        settings: ConsumerSettings,
        _ make: (AMQPConsumer) -> QueueConsumer
    ) -> [QueueConsumer] {
        (0..<settings.consumers).map { _ in
            make(
                AMQPConsumer(
                    settings: amqp,
                    queue: queue,
                    prefetch: UInt16(settings.prefetch),
                    topology: topology,
                    topologyAction: .verify,
                    logger: logger
                )
            )
        }
    }
}
