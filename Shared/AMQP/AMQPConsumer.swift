import CRMSupport
import Logging

/// Consumes one queue with manual acks and bounded prefetch on a connection of its own thread,
/// handing out batches.
///
/// Deliveries keep arriving while a batch is processed (the prefetch is larger than a batch), and
/// the idle thread reads them into a buffer, which also services heartbeats. A batch is settled
/// with one multiple-ack. After a connection failure the next call opens a new connection; tags of
/// the old one are stale and acking them is skipped, since the broker redelivers those messages.
public actor AMQPConsumer {
    private let executor: ThreadExecutor
    private let settings: AMQPSettings
    private let queue: String
    private let prefetch: UInt16
    private let topology: Topology?
    private let topologyAction: Topology.Action
    private let logger: Logger
    private var connection: AMQPConnection?
    /// Which broker of the cluster to try first when connecting: the one after the broker last lost.
    private var nextBroker = 0
    private var generation = 0
    private var buffer: [InboundMessage] = []

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// A consumer of `queue` that declares `topology` on each new connection when given one, or with
    /// `topologyAction` `.verify` checks that it exists.
    public init(
        settings: AMQPSettings,
        queue: String,
        prefetch: UInt16,
        topology: Topology? = nil,
        topologyAction: Topology.Action = .declare,
        logger: Logger
    ) {
        self.settings = settings
        self.queue = queue
        self.prefetch = prefetch
        self.topology = topology
        self.topologyAction = topologyAction
        self.logger = logger
        let idle = min(settings.heartbeat / 3, .seconds(5))
        executor = ThreadExecutor(name: "amqp-con-\(queue)", idleInterval: max(idle, .milliseconds(200)))
        executor.setIdleHandler { [weak self] in
            self?.assumeIsolated { $0.readAheadWhileIdle() }
        }
    }

    deinit {
        executor.shutdown()
    }

    /// Up to `maxCount` messages: waits up to `wait` for the first, then up to `linger` for more.
    /// Returns an empty batch when nothing arrived in time.
    public func nextBatch(maxCount: Int, wait: Duration, linger: Duration) throws(AMQPError) -> [InboundMessage] {
        let connection = try connected()
        let start = ContinuousClock.now
        var deadline = start + wait
        var lingering = !buffer.isEmpty
        if lingering { deadline = min(deadline, start + linger) }
        do {
            while buffer.count < maxCount {
                let remaining = deadline - .now
                guard remaining > .zero else { break }
                guard let message = try connection.nextDelivery(timeout: remaining, generation: generation) else {
                    continue
                }
                buffer.append(message)
                if !lingering {
                    lingering = true
                    deadline = min(deadline, ContinuousClock.now + linger)
                }
            }
        } catch {
            drop(reason: error)
            throw error
        }
        return takeBuffered(maxCount)
    }

    /// Up to `maxCount` messages that have already arrived, without waiting; empty when none has (or when the
    /// connection is down: this never opens one).
    public func arrivedBatch(maxCount: Int) throws(AMQPError) -> [InboundMessage] {
        guard let connection, connection.isOpen else { return [] }
        try bufferArrived(upTo: maxCount, from: connection)
        return takeBuffered(maxCount)
    }

    /// Acknowledges every delivery up to and including `message`.
    public func acknowledge(upTo message: InboundMessage) throws(AMQPError) {
        guard let connection, message.generation == generation else { return }
        do {
            try connection.ack(message.deliveryTag, multiple: true)
        } catch {
            drop(reason: error)
            throw error
        }
    }

    /// Returns every delivery up to and including `message` to the queue.
    public func requeue(upTo message: InboundMessage) throws(AMQPError) {
        guard let connection, message.generation == generation else { return }
        do {
            try connection.nack(message.deliveryTag, multiple: true, requeue: true)
        } catch {
            drop(reason: error)
            throw error
        }
    }

    /// Cancels consumption by closing the connection; the broker requeues whatever is unacked.
    public func close() {
        connection?.close()
        connection = nil
        buffer.removeAll()
    }

    /// Whether the consumer holds an open connection.
    public var isConnected: Bool { connection?.isOpen ?? false }

    // MARK: - Internals

    private func connected() throws(AMQPError) -> AMQPConnection {
        if let connection, connection.isOpen { return connection }
        connection = nil
        buffer.removeAll()
        let (fresh, index) = try AMQPConnection.open(
            settings,
            connectionName: "crm consumer \(queue)",
            startingAt: nextBroker
        )
        nextBroker = index
        if let topology {
            try TopologyDeclarer.apply(topology, topologyAction, on: fresh, quorum: settings.quorumQueues)
        }
        try fresh.setPrefetch(prefetch)
        try fresh.startConsuming(queue: queue, consumerTag: "crm-\(queue)-\(generation + 1)")
        generation += 1
        connection = fresh
        logger.info(
            "Consuming",
            metadata: ["amqp.queue": "\(queue)", "amqp.prefetch": "\(prefetch)", "amqp.broker": "\(fresh.broker)"]
        )
        return fresh
    }

    private func takeBuffered(_ maxCount: Int) -> [InboundMessage] {
        let count = min(maxCount, buffer.count)
        let batch = Array(buffer.prefix(count))
        buffer.removeFirst(count)
        return batch
    }

    private func drop(reason: AMQPError) {
        logger.warning("AMQP consumer connection dropped", metadata: ["amqp.queue": "\(queue)", "error": "\(reason)"])
        if connection != nil, settings.brokers.count > 1 { nextBroker = (nextBroker + 1) % settings.brokers.count }
        connection?.close()
        connection = nil
        buffer.removeAll()
    }

    /// Moves the deliveries that have already arrived into the buffer, up to `limit` buffered, without waiting.
    private func bufferArrived(upTo limit: Int, from connection: AMQPConnection) throws(AMQPError) {
        do {
            while buffer.count < limit,
                let message = try connection.nextDelivery(timeout: .zero, generation: generation)
            {
                buffer.append(message)
            }
        } catch {
            drop(reason: error)
            throw error
        }
    }

    private func readAheadWhileIdle() {
        guard let connection else { return }
        try? bufferArrived(upTo: Int(prefetch), from: connection)
    }
}
