import CRMSupport
internal import CRabbitMQ
import Foundation

/// One librabbitmq connection with one channel. Not thread-safe by design: it lives inside an
/// actor whose executor is a dedicated thread, which is the only place it is ever touched.
final class AMQPConnection {
    static let channel: amqp_channel_t = 1

    private let state: amqp_connection_state_t
    /// The broker user the connection logged in as: every message it publishes carries it as `user_id`, which the
    /// broker checks, so a consumer knows for certain which account published a message.
    let user: String
    /// False once the socket failed or the broker closed the channel or connection.
    private(set) var isOpen = true
    private var closedByUs = false

    /// The broker it is connected to.
    let broker: AMQPSettings.Broker

    /// A connection to the first broker of `settings` that answers, trying them in turn from `start` (wrapping
    /// around); the error of the last one tried when none does. Returns the index of the broker it connected to, so
    /// that after losing it the caller can start with the next one.
    static func open(
        _ settings: AMQPSettings,
        connectionName: String,
        startingAt start: Int = 0
    ) throws(AMQPError) -> (connection: AMQPConnection, index: Int) {
        let count = settings.brokers.count
        var lastError = AMQPError(.connectionFailed, operation: "connect", detail: "no broker configured")
        for offset in 0..<count {
            let index = (start + offset) % count
            do {
                return (
                    try AMQPConnection(
                        settings: settings,
                        broker: settings.brokers[index],
                        connectionName: connectionName
                    ), index
                )
            } catch  where error.isTransient {
                // Unreachable, or gone during the handshake: the next broker of the cluster may answer.
                lastError = error
            }
        }
        throw lastError
    }

    /// Opens the socket to `broker`, logs in and opens channel 1.
    init(settings: AMQPSettings, broker: AMQPSettings.Broker, connectionName: String) throws(AMQPError) {
        guard let state = amqp_new_connection() else {
            throw AMQPError(.library, operation: "amqp_new_connection", detail: "out of memory")
        }
        do {
            try Self.open(state, settings: settings, broker: broker)
            let reply = withClientProperties(connectionName) { properties in
                crm_amqp_login_plain_with_properties(
                    state,
                    settings.virtualHost,
                    1,
                    131_072,
                    Int32(settings.heartbeat.components.seconds),
                    properties,
                    settings.user,
                    settings.password
                )
            }
            try Self.check(reply, state: state, operation: "login to vhost \(settings.virtualHost)", isLogin: true)
            amqp_channel_open(state, Self.channel)
            try Self.check(amqp_get_rpc_reply(state), state: state, operation: "channel.open")
        } catch {
            amqp_destroy_connection(state)
            throw error
        }
        user = settings.user
        // Assigned last: a failed init must not run deinit, which would free the state twice.
        self.broker = broker
        self.state = state
    }

    deinit {
        if isOpen && !closedByUs {
            amqp_channel_close(state, Self.channel, Int32(AMQP_REPLY_SUCCESS))
            amqp_connection_close(state, Int32(AMQP_REPLY_SUCCESS))
        }
        amqp_destroy_connection(state)
    }

    /// Closes the channel and the connection politely; the broker requeues unacked deliveries.
    func close() {
        guard isOpen, !closedByUs else { return }
        closedByUs = true
        amqp_channel_close(state, Self.channel, Int32(AMQP_REPLY_SUCCESS))
        amqp_connection_close(state, Int32(AMQP_REPLY_SUCCESS))
        isOpen = false
    }

    private static func open(
        _ state: amqp_connection_state_t,
        settings: AMQPSettings,
        broker: AMQPSettings.Broker
    ) throws(AMQPError) {
        let socket: OpaquePointer?
        if settings.useTLS {
            socket = amqp_ssl_socket_new(state)
            if let socket {
                amqp_ssl_socket_set_verify_peer(socket, 1)
                amqp_ssl_socket_set_verify_hostname(socket, 1)
                // Always a trust store: without one, verification would refuse every broker.
                if let caFile = settings.trustedCAFile {
                    let status = amqp_ssl_socket_set_cacert(socket, caFile)
                    guard status == AMQP_STATUS_OK.rawValue else {
                        throw AMQPError(.connectionFailed, operation: "TLS CA file", detail: Self.describe(status))
                    }
                }
                if let certificate = settings.certificateFile, let key = settings.keyFile {
                    let status = amqp_ssl_socket_set_key(socket, certificate, key)
                    guard status == AMQP_STATUS_OK.rawValue else {
                        throw AMQPError(.connectionFailed, operation: "TLS client key", detail: Self.describe(status))
                    }
                }
            }
        } else {
            socket = amqp_tcp_socket_new(state)
        }
        guard let socket else {
            throw AMQPError(.library, operation: "socket", detail: "could not create a socket")
        }
        var timeout = timeval(settings.connectTimeout)
        let status = amqp_socket_open_noblock(socket, broker.host, Int32(broker.port), &timeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(
                .connectionFailed,
                operation: "connect to \(broker)",
                detail: describe(status)
            )
        }
    }

    // MARK: - Topology

    func declareExchange(_ name: String, type: String) throws(AMQPError) {
        let arena = Arena()
        amqp_exchange_declare(state, Self.channel, arena.bytes(name), arena.bytes(type), 0, 1, 0, 0, amqp_empty_table)
        try checkReply("exchange.declare \(name)")
    }

    /// Passive declare: throws (reply 404) unless the exchange exists. Needs no permission on it.
    func checkExchange(_ name: String) throws(AMQPError) {
        let arena = Arena()
        amqp_exchange_declare(
            state,
            Self.channel,
            arena.bytes(name),
            arena.bytes("topic"),
            1,
            0,
            0,
            0,
            amqp_empty_table
        )
        try checkReply("exchange.declare passive \(name)")
    }

    func declareQueue(_ name: String, arguments: [String: AMQPHeaderValue]) throws(AMQPError) {
        let arena = Arena()
        let table = arena.table(arguments)
        amqp_queue_declare(state, Self.channel, arena.bytes(name), 0, 1, 0, 0, table)
        try checkReply("queue.declare \(name)")
    }

    func bindQueue(_ queue: String, exchange: String, routingKey: String) throws(AMQPError) {
        let arena = Arena()
        amqp_queue_bind(
            state,
            Self.channel,
            arena.bytes(queue),
            arena.bytes(exchange),
            arena.bytes(routingKey),
            amqp_empty_table
        )
        try checkReply("queue.bind \(queue) to \(exchange) with \(routingKey)")
    }

    /// Passive declare: the queue's ready message count and consumer count.
    func inspectQueue(_ name: String) throws(AMQPError) -> (messages: Int, consumers: Int) {
        let arena = Arena()
        let result = amqp_queue_declare(state, Self.channel, arena.bytes(name), 1, 0, 0, 0, amqp_empty_table)
        try checkReply("queue.declare passive \(name)")
        guard let result else { return (0, 0) }
        return (Int(result.pointee.message_count), Int(result.pointee.consumer_count))
    }

    // MARK: - Publishing

    func enableConfirms() throws(AMQPError) {
        amqp_confirm_select(state, Self.channel)
        try checkReply("confirm.select")
    }

    func publish(_ message: OutboundMessage) throws(AMQPError) {
        let arena = Arena()
        var properties = amqp_basic_properties_t()
        properties._flags = amqp_flags_t(
            AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG
                | AMQP_BASIC_USER_ID_FLAG
        )
        properties.content_type = arena.bytes(message.contentType)
        // The broker refuses a user_id other than the connection's own, so consumers can rely on it.
        properties.user_id = arena.bytes(user)
        properties.delivery_mode = message.persistent ? 2 : 1
        properties.message_id = arena.bytes(message.messageID)
        if !message.headers.isEmpty {
            properties._flags |= amqp_flags_t(AMQP_BASIC_HEADERS_FLAG)
            properties.headers = arena.table(message.headers)
        }
        if let correlationID = message.correlationID {
            properties._flags |= amqp_flags_t(AMQP_BASIC_CORRELATION_ID_FLAG)
            properties.correlation_id = arena.bytes(correlationID)
        }
        if let type = message.type {
            properties._flags |= amqp_flags_t(AMQP_BASIC_TYPE_FLAG)
            properties.type = arena.bytes(type)
        }
        if let timestamp = message.timestamp {
            properties._flags |= amqp_flags_t(AMQP_BASIC_TIMESTAMP_FLAG)
            properties.timestamp = timestamp
        }
        let status = message.body.withUnsafeBytes { body in
            let bytes = amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress))
            return amqp_basic_publish(
                state,
                Self.channel,
                arena.bytes(message.exchange),
                arena.bytes(message.routingKey),
                message.mandatory ? 1 : 0,
                0,
                &properties,
                bytes
            )
        }
        try checkStatus(status, "basic.publish to \(message.exchange)")
    }

    // MARK: - Consuming

    func setPrefetch(_ count: UInt16) throws(AMQPError) {
        amqp_basic_qos(state, Self.channel, 0, count, 0)
        try checkReply("basic.qos")
    }

    func startConsuming(queue: String, consumerTag: String) throws(AMQPError) {
        let arena = Arena()
        amqp_basic_consume(
            state,
            Self.channel,
            arena.bytes(queue),
            arena.bytes(consumerTag),
            0,
            0,
            0,
            amqp_empty_table
        )
        try checkReply("basic.consume \(queue)")
    }

    func ack(_ deliveryTag: UInt64, multiple: Bool) throws(AMQPError) {
        try checkStatus(amqp_basic_ack(state, Self.channel, deliveryTag, multiple ? 1 : 0), "basic.ack")
    }

    func nack(_ deliveryTag: UInt64, multiple: Bool, requeue: Bool) throws(AMQPError) {
        try checkStatus(
            amqp_basic_nack(state, Self.channel, deliveryTag, multiple ? 1 : 0, requeue ? 1 : 0),
            "basic.nack"
        )
    }

    /// Waits up to `timeout` for one delivery; `nil` when none came. Heartbeats are serviced meanwhile.
    func nextDelivery(timeout: Duration, generation: Int) throws(AMQPError) -> InboundMessage? {
        amqp_maybe_release_buffers(state)
        var envelope = amqp_envelope_t()
        var wait = timeval(timeout)
        let reply = amqp_consume_message(state, &envelope, &wait, 0)
        if reply.reply_type.rawValue == AMQP_RESPONSE_NORMAL.rawValue {
            defer { amqp_destroy_envelope(&envelope) }
            return InboundMessage(envelope: envelope, generation: generation)
        }
        if reply.reply_type.rawValue == AMQP_RESPONSE_LIBRARY_EXCEPTION.rawValue {
            if reply.library_error == AMQP_STATUS_TIMEOUT.rawValue { return nil }
            if reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue {
                // A frame that is not a delivery arrived: a close, a cancel, or a stray confirm.
                try handleNonDeliveryFrame()
                return nil
            }
        }
        try Self.check(reply, state: state, operation: "basic.consume", onClose: { isOpen = false })
        return nil
    }

    private func handleNonDeliveryFrame() throws(AMQPError) {
        var frame = amqp_frame_t()
        var wait = timeval(.zero)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &wait)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return }
        try checkStatus(status, "read frame")
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return }
        try handleMethod(frame.payload.method, operation: "consume")
    }

    // MARK: - Frames

    /// A frame relevant to publisher confirms.
    enum ConfirmFrame {
        case ack(tag: UInt64, multiple: Bool)
        case nack(tag: UInt64, multiple: Bool)
        /// A mandatory message came back unroutable, named by its message id.
        case returned(messageID: String?, replyText: String)
    }

    /// Waits up to `timeout` for the next confirm-related frame; `nil` on timeout.
    func nextConfirmFrame(timeout: Duration) throws(AMQPError) -> ConfirmFrame? {
        var frame = amqp_frame_t()
        var wait = timeval(timeout)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &wait)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        try checkStatus(status, "wait for confirms")
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return nil }
        let method = frame.payload.method
        switch method.id {
        case AMQP_BASIC_ACK_METHOD:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            return .ack(tag: ack.delivery_tag, multiple: ack.multiple != 0)
        case AMQP_BASIC_NACK_METHOD:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            return .nack(tag: nack.delivery_tag, multiple: nack.multiple != 0)
        case AMQP_BASIC_RETURN_METHOD:
            let returned = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let text = String(amqpBytes: returned.reply_text)
            var message = amqp_message_t()
            let reply = amqp_read_message(state, frame.channel, &message, 0)
            defer { amqp_destroy_message(&message) }
            try Self.check(reply, state: state, operation: "read returned message", onClose: { isOpen = false })
            let flags = message.properties._flags
            let id =
                flags & amqp_flags_t(AMQP_BASIC_MESSAGE_ID_FLAG) != 0
                ? String(amqpBytes: message.properties.message_id) : nil
            return .returned(messageID: id, replyText: text)
        default:
            try handleMethod(method, operation: "wait for confirms")
            return nil
        }
    }

    /// Lets librabbitmq send a due heartbeat and notice a dead peer without blocking.
    func serviceHeartbeat() throws(AMQPError) {
        var frame = amqp_frame_t()
        var wait = timeval(.zero)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &wait)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return }
        try checkStatus(status, "heartbeat")
        if frame.frame_type == UInt8(AMQP_FRAME_METHOD) {
            try handleMethod(frame.payload.method, operation: "idle")
        }
    }

    /// Reacts to a close or cancel from the broker; other methods are ignored.
    private func handleMethod(_ method: amqp_method_t, operation: String) throws(AMQPError) {
        switch method.id {
        case AMQP_CHANNEL_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            var ok = amqp_channel_close_ok_t()
            amqp_send_method(state, Self.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok)
            isOpen = false
            throw AMQPError(
                .closedByBroker,
                operation: operation,
                replyCode: Int(close.reply_code),
                detail: String(amqpBytes: close.reply_text)
            )
        case AMQP_CONNECTION_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            var ok = amqp_connection_close_ok_t()
            amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok)
            isOpen = false
            throw AMQPError(
                .closedByBroker,
                operation: operation,
                replyCode: Int(close.reply_code),
                detail: String(amqpBytes: close.reply_text)
            )
        case AMQP_BASIC_CANCEL_METHOD:
            // The queue was deleted or the node holding it went away: start over on a new connection.
            isOpen = false
            throw AMQPError(.closedByBroker, operation: operation, detail: "consumer cancelled by the broker")
        default:
            return
        }
    }

    // MARK: - Errors

    private func checkReply(_ operation: String) throws(AMQPError) {
        try Self.check(amqp_get_rpc_reply(state), state: state, operation: operation, onClose: { isOpen = false })
    }

    private func checkStatus(_ status: Int32, _ operation: String) throws(AMQPError) {
        guard status < 0 else { return }
        isOpen = false
        throw AMQPError(.connectionLost, operation: operation, detail: Self.describe(status))
    }

    static func describe(_ status: Int32) -> String {
        guard let text = amqp_error_string2(status) else { return "status \(status)" }
        return String(cString: text)
    }

    /// Turns an RPC reply into a Swift error once, at the boundary, answering a broker close.
    private static func check(
        _ reply: amqp_rpc_reply_t,
        state: amqp_connection_state_t,
        operation: String,
        isLogin: Bool = false,
        onClose: () -> Void = {}
    ) throws(AMQPError) {
        switch reply.reply_type.rawValue {
        case AMQP_RESPONSE_NORMAL.rawValue:
            return
        case AMQP_RESPONSE_LIBRARY_EXCEPTION.rawValue:
            onClose()
            // RabbitMQ drops the socket on bad credentials before any close method arrives.
            let code: AMQPError.Code = isLogin ? .accessRefused : .connectionLost
            throw AMQPError(code, operation: operation, detail: describe(reply.library_error))
        case AMQP_RESPONSE_SERVER_EXCEPTION.rawValue:
            onClose()
            var replyCode: Int?
            var text = ""
            if reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD {
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                replyCode = Int(close.reply_code)
                text = String(amqpBytes: close.reply_text)
                var ok = amqp_connection_close_ok_t()
                amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok)
            } else if reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD {
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                replyCode = Int(close.reply_code)
                text = String(amqpBytes: close.reply_text)
                var ok = amqp_channel_close_ok_t()
                amqp_send_method(state, Self.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok)
            }
            let code: AMQPError.Code = (replyCode == 403 || replyCode == 530) ? .accessRefused : .closedByBroker
            throw AMQPError(code, operation: operation, replyCode: replyCode, detail: text)
        default:
            onClose()
            throw AMQPError(.connectionLost, operation: operation, detail: "no reply")
        }
    }
}

extension timeval {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}

extension String {
    init(amqpBytes bytes: amqp_bytes_t) {
        guard let pointer = bytes.bytes, bytes.len > 0 else {
            self = ""
            return
        }
        self = String(decoding: UnsafeRawBufferPointer(start: pointer, count: bytes.len), as: UTF8.self)
    }
}
