import CRMSupport
import Foundation
import Logging
import Synchronization

/// Publishes with publisher confirms on a connection of its own thread.
///
/// `publish` returns only when the broker has confirmed every message of the batch; a nack, an unroutable return or
/// a missing confirm within the deadline throws, and the caller retries the batch (consumers deduplicate, so a retry
/// never double-counts). `publish(streaming:window:)` keeps publishing while earlier messages await their confirms,
/// at most `window` of them at a time, for long runs of messages. The connection opens lazily, and anew after it
/// fails, after a missing confirm and after a nack.
public actor AMQPPublisher {
    private let executor: ThreadExecutor
    private let settings: AMQPSettings
    private let topology: Topology?
    private let topologyAction: Topology.Action
    private let name: String
    private let logger: Logger
    private var connection: AMQPConnection? {
        didSet { holdsConnection.store(connection != nil, ordering: .relaxed) }
    }
    /// Which broker of the cluster to try first when connecting: the one after the broker last lost.
    private var nextBroker = 0
    /// Whether a connection is held, readable without waiting for the actor (a relay may keep it busy publishing).
    private let holdsConnection = Atomic<Bool>(false)
    private var nextTag: UInt64 = 1

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// A publisher that declares `topology` on each new connection when given one, or with `topologyAction`
    /// `.verify` checks that it exists.
    public init(
        settings: AMQPSettings,
        name: String,
        topology: Topology? = nil,
        topologyAction: Topology.Action = .declare,
        logger: Logger
    ) {
        self.settings = settings
        self.topology = topology
        self.topologyAction = topologyAction
        self.name = name
        self.logger = logger
        let idle = min(settings.heartbeat / 3, .seconds(5))
        executor = ThreadExecutor(name: "amqp-pub-\(name)", idleInterval: max(idle, .milliseconds(200)))
        executor.setIdleHandler { [weak self] in
            self?.assumeIsolated { $0.serviceIdleConnection() }
        }
    }

    deinit {
        executor.shutdown()
    }

    /// Publishes every message and waits for all their confirms.
    public func publish(_ messages: [OutboundMessage], confirmTimeout: Duration = .seconds(15)) throws(AMQPError) {
        try publish(streaming: messages, window: messages.count, confirmTimeout: confirmTimeout)
    }

    /// Publishes the messages in order with at most `window` of them unconfirmed at a time, and returns when every
    /// one is confirmed.
    ///
    /// A persistent message is confirmed once the broker has written it to disk, so waiting for each batch's confirms
    /// before sending the next leaves the connection idle for a disk flush per batch; a window keeps it busy.
    /// `confirmed` is told, as it grows, how many leading messages the broker has confirmed: after an error, those
    /// need not be sent again.
    public func publish(
        streaming messages: [OutboundMessage],
        window: Int,
        confirmTimeout: Duration = .seconds(15),
        confirmed: (@Sendable (Int) -> Void)? = nil
    ) throws(AMQPError) {
        guard !messages.isEmpty else { return }
        // A message published inside a span carries its trace context, unless it has one of its own.
        let messages = MessageTracing.stamped(messages)
        let connection = try connected()
        do {
            try publishAndConfirm(
                messages,
                window: max(window, 1),
                on: connection,
                timeout: confirmTimeout,
                confirmed: confirmed
            )
        } catch {
            // A nack starts over on a new connection (the next broker of a cluster first): RabbitMQ 3.10 nacks what is
            // routed to a quorum queue electing a new leader, and a channel nacked then can go on nacking every
            // publish for minutes, where the next connection's publishes are taken.
            if !connection.isOpen || error.code == .confirmTimeout || error.code == .publishNacked {
                drop(reason: error)
            }
            throw error
        }
    }

    /// Publishes one message and waits for its confirm.
    public func publish(_ message: OutboundMessage, confirmTimeout: Duration = .seconds(15)) throws(AMQPError) {
        try publish([message], confirmTimeout: confirmTimeout)
    }

    /// Opens the connection now (and declares the topology), so start-up fails fast.
    public func connect() throws(AMQPError) {
        _ = try connected()
    }

    /// Whether a connection is open right now.
    public var isConnected: Bool { connection?.isOpen ?? false }

    /// Whether the publisher holds a connection that has not failed: a health check that never waits behind a
    /// publish. A connection the broker closed is let go at its next use or heartbeat, within the heartbeat interval.
    public nonisolated var holdsOpenConnection: Bool { holdsConnection.load(ordering: .relaxed) }

    /// Ready messages and consumers of a queue, by a passive declare.
    public func inspectQueue(_ name: String) throws(AMQPError) -> (messages: Int, consumers: Int) {
        let connection = try connected()
        do {
            return try connection.inspectQueue(name)
        } catch {
            drop(reason: error)
            throw error
        }
    }

    /// Binds an existing queue to an exchange with a routing key (needs write on the queue and read on the exchange).
    public func bind(queue: String, to exchange: String, routingKey: String) throws(AMQPError) {
        let connection = try connected()
        do {
            try connection.bindQueue(queue, exchange: exchange, routingKey: routingKey)
        } catch {
            drop(reason: error)
            throw error
        }
    }

    /// Closes the connection; a later publish opens a new one.
    public func close() {
        connection?.close()
        connection = nil
    }

    // MARK: - Internals

    private func connected() throws(AMQPError) -> AMQPConnection {
        if let connection, connection.isOpen { return connection }
        connection = nil
        let (fresh, index) = try AMQPConnection.open(
            settings,
            connectionName: "crm \(name) publisher",
            startingAt: nextBroker
        )
        nextBroker = index
        try fresh.enableConfirms()
        if let topology {
            try TopologyDeclarer.apply(topology, topologyAction, on: fresh, quorum: settings.quorumQueues)
        }
        nextTag = 1
        connection = fresh
        logger.debug("AMQP publisher connected", metadata: ["amqp.url": "\(settings.redacted(fresh.broker))"])
        return fresh
    }

    private func publishAndConfirm(
        _ messages: [OutboundMessage],
        window: Int,
        on connection: AMQPConnection,
        timeout: Duration,
        confirmed: (@Sendable (Int) -> Void)?
    ) throws(AMQPError) {
        var tracker = ConfirmTracker(first: nextTag, count: messages.count)
        var returned: [String] = []
        var reported = 0
        /// Reads confirm frames until one arrives or, without `blocking`, until none is waiting.
        func readConfirms(blocking: Bool) throws(AMQPError) {
            let deadline = ContinuousClock.now + timeout
            while true {
                let remaining = deadline - .now
                guard remaining > .zero else {
                    throw AMQPError(
                        .confirmTimeout,
                        operation: "publish",
                        detail: "\(tracker.pending) of \(messages.count) messages unconfirmed after \(timeout)"
                    )
                }
                switch try connection.nextConfirmFrame(timeout: blocking ? min(remaining, .milliseconds(200)) : .zero) {
                case .ack(let tag, let multiple)?: tracker.settle(tag: tag, multiple: multiple, positive: true)
                case .nack(let tag, let multiple)?: tracker.settle(tag: tag, multiple: multiple, positive: false)
                case .returned(let messageID, let replyText)?:
                    returned.append("\(messageID ?? "?") (\(replyText))")
                    continue
                case nil:
                    if blocking { continue }
                    return
                }
                if blocking { return }
            }
        }
        func report() {
            guard let confirmed, tracker.confirmedPrefix > reported else { return }
            reported = tracker.confirmedPrefix
            confirmed(reported)
        }
        for (index, message) in messages.enumerated() {
            while index - tracker.settledCount >= window {
                try readConfirms(blocking: true)
                report()
            }
            try connection.publish(message)
            nextTag += 1
            // Confirms that have already arrived are taken now and then, so the window reflects them.
            if index % 64 == 63 && window < messages.count {
                try readConfirms(blocking: false)
                report()
            }
        }
        while !tracker.isComplete {
            try readConfirms(blocking: true)
            report()
        }
        if !returned.isEmpty {
            throw AMQPError(
                .unroutable,
                operation: "publish to \(messages[0].exchange)",
                detail: "no queue took \(returned.count) message(s): \(returned.prefix(3).joined(separator: ", "))"
            )
        }
        if tracker.nacked > 0 {
            throw AMQPError(.publishNacked, operation: "publish", detail: "\(tracker.nacked) message(s) nacked")
        }
    }

    private func drop(reason: AMQPError) {
        logger.warning(
            "AMQP publisher connection dropped",
            metadata: ["error": "\(reason)", "amqp.url": "\(connection.map { settings.redacted($0.broker) } ?? "-")"]
        )
        // A lost broker is tried last next time: in a cluster, another one keeps the queues.
        if connection != nil, settings.brokers.count > 1 { nextBroker = (nextBroker + 1) % settings.brokers.count }
        connection?.close()
        connection = nil
    }

    private func serviceIdleConnection() {
        guard let connection else { return }
        do {
            try connection.serviceHeartbeat()
        } catch {
            drop(reason: error)
        }
    }
}

/// Which delivery tags of one published run of messages the broker has confirmed.
struct ConfirmTracker {
    let first: UInt64
    /// Each message's confirm: `nil` while awaited, then whether the broker acked (rather than nacked) it.
    private var outcomes: [Bool?]
    private(set) var pending: Int
    private(set) var nacked = 0
    /// How many leading messages are confirmed (acked, none nacked before them).
    private(set) var confirmedPrefix = 0
    /// Every message before this one is settled, so a multiple confirm starts here.
    private var firstUnsettled = 0

    init(first: UInt64, count: Int) {
        self.first = first
        outcomes = Array(repeating: nil, count: count)
        pending = count
    }

    var isComplete: Bool { pending == 0 }
    var settledCount: Int { outcomes.count - pending }

    /// Records an ack or nack; `multiple` covers every tag up to `tag`. Tags of earlier runs are ignored.
    mutating func settle(tag: UInt64, multiple: Bool, positive isAck: Bool) {
        guard tag >= first, tag - first < UInt64(outcomes.count) else { return }
        let last = Int(tag - first)
        let range = multiple ? min(firstUnsettled, last)...last : last...last
        for index in range where outcomes[index] == nil {
            outcomes[index] = isAck
            pending -= 1
            if !isAck { nacked += 1 }
        }
        while firstUnsettled < outcomes.count && outcomes[firstUnsettled] != nil {
            firstUnsettled += 1
        }
        while confirmedPrefix < outcomes.count && outcomes[confirmedPrefix] == true {
            confirmedPrefix += 1
        }
    }
}
