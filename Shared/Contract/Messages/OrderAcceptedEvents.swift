import CRMSupport
import Foundation

/// Intake's word to scoring that customers' orders changed, every customer of one intake transaction in one message
/// (`order.accepted.v2`; internal, not in the public spec).
///
/// One entry per customer touched, naming every order the transaction stored for it (none for a customer registered
/// without an order); `occurred_at` is the latest `occurred_at` among them (the registration time without orders), which lets scoring skip an entry older than the customer's last scoring. A batch of
/// orders from as many customers made one `order.accepted.v1` message per customer, nearly one per order: the broker
/// carried every order twice, and intake's relay publishing them slowed intake down (BENCHMARKS.md, "Design
/// choices"). Intake writes at most ``maximumCustomers`` entries per message. Scoring still takes `order.accepted.v1`,
/// which an older intake may have left in its outbox.
///
/// `{"schema": "order.accepted.v2", "customers": [{"customer_id": "C-42", "order_ids": ["A-1001"], "occurred_at": "…"}]}`
public struct OrderAcceptedEvents: SchemaMessage {
    /// `order.accepted.v2`.
    public static let schema = "order.accepted.v2"
    /// The most entries in one message that ``packed(_:)`` makes.
    public static let maximumCustomers = 500
    /// The most bytes of a body that ``packed(_:)`` makes, counting every character as escaped: half of what a
    /// consumer takes (``MessageBody/maximumSize``).
    public static let maximumBodyBytes = 128 * 1024

    /// One customer whose orders changed.
    public struct Customer: Codable, Sendable, Equatable {
        /// The customer.
        public var customerID: Identifier
        /// The orders newly stored, no repeats; empty for a customer registered or updated without an order
        /// (`customer.v1`), whom scoring scores all the same.
        public var orderIDs: [Identifier]
        /// The latest `occurred_at` among those orders.
        public var occurredAt: Timestamp

        public init(customerID: Identifier, orderIDs: [Identifier], occurredAt: Timestamp) {
            self.customerID = customerID
            self.orderIDs = orderIDs
            self.occurredAt = occurredAt
        }

        /// Checks that no order is named twice.
        public func validate() throws(MessageRejection) {
            guard !orderIDs.isEmpty else { return }
            try ListRules.checkDistinct(orderIDs, field: "order_ids", key: { $0 })
        }

        enum CodingKeys: String, CodingKey {
            case customerID = "customer_id"
            case orderIDs = "order_ids"
            case occurredAt = "occurred_at"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            customerID = try container.required(Identifier.self, .customerID)
            orderIDs = try container.required([Identifier].self, .orderIDs)
            occurredAt = try container.required(Timestamp.self, .occurredAt)
        }
    }

    /// The customers, each once.
    public var customers: [Customer]

    /// Creates the message; call ``validate()`` to check it.
    public init(customers: [Customer]) {
        self.customers = customers
    }

    /// Checks that at least one customer is named, none twice, and each entry.
    public func validate() throws(MessageRejection) {
        try ListRules.checkDistinct(customers, field: "customers", key: \.customerID, keyField: "customer_id") {
            customer,
            index throws(MessageRejection) in
            do throws(MessageRejection) {
                try customer.validate()
            } catch {
                throw error.within("customers[\(index)]")
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case customers
    }

    /// Decodes and validates the message; ``decode(body:)`` is the entry point for raw bodies.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.requireSchema(Self.schema, key: .schema)
        customers = try container.required([Customer].self, .customers)
        try validate(locatedAt: decoder.codingPath)
    }

    /// Encodes the message.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schema, forKey: .schema)
        try container.encode(customers, forKey: .customers)
    }

    /// Validates the message and writes its body: the bytes `JSONEncoder` writes for it (sorted keys, slashes
    /// unescaped), without `JSONEncoder`, which cost intake a visible share of its processor time for these events.
    public func encodedBody() throws(MessageRejection) -> Data {
        try validate()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(48 + customers.reduce(0) { $0 + 80 + 24 * $1.orderIDs.count })
        bytes.append(contentsOf: #"{"customers":["#.utf8)
        for (index, customer) in customers.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "{"))
            customer.writeMembers(&bytes)
            bytes.append(UInt8(ascii: "}"))
        }
        bytes.append(contentsOf: #"],"schema":"#.utf8)
        CanonicalOrderWriter.writeString(Self.schema, &bytes)
        bytes.append(UInt8(ascii: "}"))
        return Data(bytes)
    }

    /// The customers in as few messages as the limits allow: at most ``maximumCustomers`` entries and
    /// ``maximumBodyBytes`` each. A customer with more orders than one message holds is named in several, each with a
    /// part of its orders (scoring rescores a customer from all its stored orders, whichever part it reads).
    public static func packed(_ customers: [Customer]) -> [OrderAcceptedEvents] {
        let envelope = 64
        var messages: [OrderAcceptedEvents] = []
        var current: [Customer] = []
        var size = envelope
        for customer in customers {
            for part in customer.parts(fitting: maximumBodyBytes - envelope) {
                let bytes = part.boundOnBytes
                if current.count == maximumCustomers || size + bytes > maximumBodyBytes {
                    messages.append(OrderAcceptedEvents(customers: current))
                    current = []
                    size = envelope
                }
                current.append(part)
                size += bytes
            }
        }
        if !current.isEmpty { messages.append(OrderAcceptedEvents(customers: current)) }
        return messages
    }

    /// The customers named by an `order.accepted` body of either version.
    public static func customerIDs(in body: Data) throws(MessageRejection) -> [Identifier] {
        let checked = try MessageBody.check(body)
        switch checked.schema {
        case schema: return try MessageBody.decode(Self.self, from: checked).customers.map(\.customerID)
        case OrderAcceptedEvent.schema:
            return [try MessageBody.decode(OrderAcceptedEvent.self, from: checked).customerID]
        default: throw MessageBody.unknownSchema(checked.schema)
        }
    }
}

extension OrderAcceptedEvents.Customer {
    /// Writes the entry's members in sorted order, as `JSONEncoder` does, without the braces.
    func writeMembers(_ bytes: inout [UInt8]) {
        bytes.append(contentsOf: #""customer_id":"#.utf8)
        CanonicalOrderWriter.writeString(customerID.rawValue, &bytes)
        bytes.append(contentsOf: #","occurred_at":"#.utf8)
        occurredAt.appendQuotedRFC3339(to: &bytes)
        bytes.append(contentsOf: #","order_ids":["#.utf8)
        for (index, orderID) in orderIDs.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            CanonicalOrderWriter.writeString(orderID.rawValue, &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }
}

extension OrderAcceptedEvents.Customer {
    /// At least the bytes the entry takes in a body, every character counted as escaped.
    var boundOnBytes: Int { orderIDs.reduce(boundWithoutOrders) { $0 + Self.bound(of: $1) } }

    /// The entry, or its orders split over entries that each take at most `bytes`.
    func parts(fitting bytes: Int) -> [Self] {
        guard boundOnBytes > bytes else { return [self] }
        var parts: [Self] = []
        var part = Self(customerID: customerID, orderIDs: [], occurredAt: occurredAt)
        var size = boundWithoutOrders
        for orderID in orderIDs {
            if !part.orderIDs.isEmpty, size + Self.bound(of: orderID) > bytes {
                parts.append(part)
                part.orderIDs = []
                size = boundWithoutOrders
            }
            part.orderIDs.append(orderID)
            size += Self.bound(of: orderID)
        }
        parts.append(part)
        return parts
    }

    /// The member names, the timestamp, punctuation and the customer id, escaped.
    private var boundWithoutOrders: Int { 64 + 2 * customerID.rawValue.utf8.count }

    /// An order id in the list: quotes, comma and the id, escaped.
    private static func bound(of orderID: Identifier) -> Int { 3 + 2 * orderID.rawValue.utf8.count }
}
