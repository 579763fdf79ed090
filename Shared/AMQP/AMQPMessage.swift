import Foundation

/// A value of an AMQP header table, as far as the system uses them.
public enum AMQPHeaderValue: Sendable, Equatable, Hashable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case bytes([UInt8])
    case timestamp(UInt64)
    case array([AMQPHeaderValue])
    case table([String: AMQPHeaderValue])
    case void

    /// The value as text, when it is a string or a number.
    public var stringValue: String? {
        switch self {
        case .string(let value): value
        case .int(let value): String(value)
        case .bytes(let value): String(decoding: value, as: UTF8.self)
        default: nil
        }
    }
}

/// A message received from a queue, with what the service needs to process and settle it.
public struct InboundMessage: Sendable {
    public var body: Data
    public var exchange: String
    public var routingKey: String
    public var headers: [String: AMQPHeaderValue]
    public var contentType: String?
    public var messageID: String?
    public var correlationID: String?
    public var timestamp: UInt64?
    public var type: String?
    public var appID: String?
    /// The broker user that published the message, when the publisher set `user_id`: RabbitMQ refuses a publish
    /// whose `user_id` is not the publishing connection's user, so this names the account for certain.
    public var userID: String?
    /// Whether the broker delivered this message before, to this or another consumer.
    public var redelivered: Bool
    /// The broker's tag, valid only on the connection `generation` that received it.
    public var deliveryTag: UInt64
    /// Which connection of the consumer received the message; tags of older ones cannot be acked.
    public var generation: Int

    public init(
        body: Data,
        exchange: String = "",
        routingKey: String = "",
        headers: [String: AMQPHeaderValue] = [:],
        contentType: String? = nil,
        messageID: String? = nil,
        correlationID: String? = nil,
        timestamp: UInt64? = nil,
        type: String? = nil,
        appID: String? = nil,
        userID: String? = nil,
        redelivered: Bool = false,
        deliveryTag: UInt64 = 0,
        generation: Int = 0
    ) {
        self.body = body
        self.exchange = exchange
        self.routingKey = routingKey
        self.headers = headers
        self.contentType = contentType
        self.messageID = messageID
        self.correlationID = correlationID
        self.timestamp = timestamp
        self.type = type
        self.appID = appID
        self.userID = userID
        self.redelivered = redelivered
        self.deliveryTag = deliveryTag
        self.generation = generation
    }
}

/// A message to publish: persistent JSON unless told otherwise.
public struct OutboundMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: Data
    public var headers: [String: AMQPHeaderValue]
    public var contentType: String
    /// Identifies the message to consumers (deduplication) and to the publisher (returns).
    public var messageID: String
    public var correlationID: String?
    public var type: String?
    public var timestamp: UInt64?
    public var persistent: Bool
    /// Ask the broker to return the message when no queue takes it.
    public var mandatory: Bool

    public init(
        exchange: String,
        routingKey: String,
        body: Data,
        headers: [String: AMQPHeaderValue] = [:],
        contentType: String = "application/json",
        messageID: String = MessageID.random(),
        correlationID: String? = nil,
        type: String? = nil,
        timestamp: UInt64? = UInt64(Date().timeIntervalSince1970),
        persistent: Bool = true,
        mandatory: Bool = true
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.headers = headers
        self.contentType = contentType
        self.messageID = messageID
        self.correlationID = correlationID
        self.type = type
        self.timestamp = timestamp
        self.persistent = persistent
        self.mandatory = mandatory
    }
}

extension OutboundMessage {
    /// The dead-letter copy of a received message: same body and headers, plus `x-crm-error`.
    ///
    /// It goes to `crm.dead` with the source queue as routing key, where `<queue>.dead` keeps it.
    public static func deadLetter(of message: InboundMessage, fromQueue queue: String, reason: String) -> Self {
        var headers = message.headers
        headers[Topology.errorHeader] = .string(reason)
        headers["x-crm-original-exchange"] = .string(message.exchange)
        headers["x-crm-original-routing-key"] = .string(message.routingKey)
        headers["x-crm-dead-lettered-at"] = .string(ISO8601DateFormatter().string(from: Date()))
        // The copy is published by the dead-lettering service (its own user_id); the original publisher stays known.
        if let user = message.userID { headers["x-crm-original-user-id"] = .string(user) }
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
