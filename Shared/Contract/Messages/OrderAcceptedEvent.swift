/// Intake's word to scoring that a customer's orders changed (`order.accepted.v1`; internal, not in the public spec).
///
/// Intake now writes ``OrderAcceptedEvents`` (`order.accepted.v2`, every customer of a transaction in one message);
/// scoring still takes this one-customer form, which an older intake may have left in its outbox. One event per
/// customer per intake transaction: a batch of deliveries for one customer yields one event naming every order
/// stored, so scoring rescores the customer once. A redelivered order that was already stored is not
/// named again. `occurred_at` is the latest `occurred_at` among the named orders, which lets scoring skip an event
/// older than the customer's last scoring when orders arrive out of order.
///
/// `{"schema": "order.accepted.v1", "customer_id": "C-42", "order_ids": ["A-1001"], "occurred_at": "…"}`
public struct OrderAcceptedEvent: SchemaMessage {
    /// `order.accepted.v1`.
    public static let schema = "order.accepted.v1"

    /// The customer and its orders, as a `order.accepted.v2` entry holds them.
    public var entry: OrderAcceptedEvents.Customer

    /// The customer whose orders changed.
    public var customerID: Identifier {
        get { entry.customerID }
        set { entry.customerID = newValue }
    }
    /// The orders newly stored; at least one, no repeats.
    public var orderIDs: [Identifier] {
        get { entry.orderIDs }
        set { entry.orderIDs = newValue }
    }
    /// The latest `occurred_at` among those orders.
    public var occurredAt: Timestamp {
        get { entry.occurredAt }
        set { entry.occurredAt = newValue }
    }

    /// Creates the event; call ``validate()`` to check it.
    public init(customerID: Identifier, orderIDs: [Identifier], occurredAt: Timestamp) {
        entry = OrderAcceptedEvents.Customer(customerID: customerID, orderIDs: orderIDs, occurredAt: occurredAt)
    }

    /// Checks that at least one order is named (v1 knew no registrations), and none twice.
    public func validate() throws(MessageRejection) {
        try ListRules.checkDistinct(entry.orderIDs, field: "order_ids", key: { $0 })
    }

    enum CodingKeys: String, CodingKey {
        case schema
    }

    /// Decodes and validates the event; ``decode(body:)`` is the entry point for raw bodies. The members besides
    /// `schema` are an entry's, decoded and encoded by it.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.requireSchema(Self.schema, key: .schema)
        entry = try OrderAcceptedEvents.Customer(from: decoder)
        try validate(locatedAt: decoder.codingPath)
    }

    /// Encodes the event.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schema, forKey: .schema)
        try entry.encode(to: encoder)
    }
}
