import CRMContract

/// Which broker accounts a queue takes messages from, by routing key: a consumer's check of the AMQP `user_id`.
///
/// RabbitMQ refuses a publish whose `user_id` is not the publishing connection's own user, and every publisher of
/// this system sets it, so the property names the account that published a message for certain. The services'
/// internal events are trusted only from the account of the service that owns the event (`order.accepted` from
/// `crm_intake`, ...), or from the consuming process's own account (a deployment that runs every service under one
/// account trusts itself). Anything else, a message without `user_id` included, is dead-lettered with the reason
/// `user_id: ...` and the code `untrusted_publisher`.
public struct PublisherCheck: Sendable, Equatable {
    /// The account that owns each routing key.
    public var owners: [String: String]
    /// The consuming process's own broker user, also trusted.
    public var ownUser: String

    public init(owners: [String: String], ownUser: String) {
        self.owners = owners
        self.ownUser = ownUser
    }

    /// Why the message is not trusted, or nil when it is.
    public func rejection(of message: InboundMessage) -> MessageRejection? {
        guard let owner = owners[message.routingKey] else {
            return MessageRejection(
                .untrustedPublisher,
                field: "routing_key",
                "not an event this queue takes (expected one of \(owners.keys.sorted().joined(separator: ", ")))"
            )
        }
        guard let user = message.userID else {
            return MessageRejection(
                .untrustedPublisher,
                field: "user_id",
                "missing; \(message.routingKey) is taken only from \(owner)"
            )
        }
        guard user == owner || user == ownUser else {
            return MessageRejection(
                .untrustedPublisher,
                field: "user_id",
                "published by \(MessageRejection.quoted(user)); \(message.routingKey) is taken only from \(owner)"
            )
        }
        return nil
    }

    /// `handler` run on the trusted messages of each batch only; the others are dead-lettered with their reason.
    public func guarding(_ handler: @escaping QueueConsumer.Handler) -> QueueConsumer.Handler {
        { batch in
            var dispositions = [MessageDisposition](repeating: .processed, count: batch.count)
            var trusted: [Int] = []
            for (index, message) in batch.enumerated() {
                if let rejection = rejection(of: message) {
                    dispositions[index] = .deadLetter(rejection)
                } else {
                    trusted.append(index)
                }
            }
            guard !trusted.isEmpty else { return dispositions }
            let handled = try await handler(trusted.map { batch[$0] })
            for (index, disposition) in zip(trusted, handled) { dispositions[index] = disposition }
            return dispositions
        }
    }
}
