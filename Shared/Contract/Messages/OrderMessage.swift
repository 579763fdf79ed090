import Foundation

/// An order from an upstream system (`order.v1` on `crm.orders`): a purchase, or a refund of an earlier order.
///
/// ```json
/// {"schema": "order.v1", "order_id": "A-1001", "customer_id": "C-42", "occurred_at": "2026-11-20T10:15:00+08:00",
///  "kind": "purchase", "amount": "129.90", "currency": "CNY", "cost": "80.10", "channel": "web",
///  "customer": {"name": "Li Lei", "email": "li@example.com", "region": "east", "type": "final"},
///  "items": [{"sku": "SKU-1", "quantity": 2, "unit_price": "64.95", "category": "books"}]}
/// ```
/// Unknown members are ignored, so upstream can add fields without breaking intake. The items need not add up to
/// `amount` (discounts, shipping and tax sit between them), so that is not checked.
public struct OrderMessage: SchemaMessage {
    /// `order.v1`.
    public static let schema = "order.v1"

    /// Whether an order adds value or takes it back.
    public enum Kind: String, MessageVocabulary {
        /// A sale; the default when `kind` is absent.
        case purchase
        /// A refund of `original_order_id`; it lowers the customer's value by `amount`.
        case refund
    }

    /// The order's identifier; redelivery of the same content under it is harmless, different content a conflict.
    public var orderID: Identifier
    /// The buying customer.
    public var customerID: Identifier
    /// When the order happened, by the upstream system's clock.
    public var occurredAt: Timestamp
    /// Purchase (default) or refund.
    public var kind: Kind
    /// The order a refund refunds; required for refunds, refused on purchases.
    public var originalOrderID: Identifier?
    /// The order's total, in `currency`; for a refund, the amount given back (never negative).
    public var amount: Money
    /// The currency of every amount in the order.
    public var currency: CurrencyCode
    /// What the order cost the seller, for margins; optional.
    public var cost: Money?
    /// The sales channel, e.g. `web`; optional.
    public var channel: String?
    /// What upstream knows of the customer; optional.
    public var customer: OrderCustomer?
    /// The lines of the order; empty when upstream sends none.
    public var items: [OrderItem]

    /// Creates an order; call ``validate()`` (or ``encodedBody()``) to check the rules across fields.
    public init(
        orderID: Identifier,
        customerID: Identifier,
        occurredAt: Timestamp,
        kind: Kind = .purchase,
        originalOrderID: Identifier? = nil,
        amount: Money,
        currency: CurrencyCode,
        cost: Money? = nil,
        channel: String? = nil,
        customer: OrderCustomer? = nil,
        items: [OrderItem] = []
    ) {
        self.orderID = orderID
        self.customerID = customerID
        self.occurredAt = occurredAt
        self.kind = kind
        self.originalOrderID = originalOrderID
        self.amount = amount
        self.currency = currency
        self.cost = cost
        self.channel = channel
        self.customer = customer
        self.items = items
    }

    /// Checks the refund rules, the labels, the customer and every item.
    public func validate() throws(MessageRejection) {
        switch (kind, originalOrderID) {
        case (.refund, nil):
            throw MessageRejection(.missingField, field: "original_order_id", "required for a refund")
        case (.purchase, .some):
            throw MessageRejection(.invalidValue, field: "original_order_id", "only allowed on a refund")
        case (.refund, .some(let original)) where original == orderID:
            throw MessageRejection(.invalidValue, field: "original_order_id", "must name another order")
        default:
            break
        }
        try TextRules.check(label: channel, field: "channel")
        do throws(MessageRejection) {
            try customer?.validate()
        } catch {
            throw error.within("customer")
        }
        for (index, item) in items.enumerated() {
            do throws(MessageRejection) {
                try item.validate()
            } catch {
                throw error.within("items[\(index)]")
            }
        }
    }
}

// MARK: - JSON

extension OrderMessage {
    enum CodingKeys: String, CodingKey {
        case schema
        case orderID = "order_id"
        case customerID = "customer_id"
        case occurredAt = "occurred_at"
        case kind
        case originalOrderID = "original_order_id"
        case amount, currency, cost, channel, customer, items
    }

    /// Decodes and validates an order; ``decode(body:)`` is the entry point for raw bodies.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.requireSchema(Self.schema, key: .schema)
        orderID = try container.required(Identifier.self, .orderID)
        customerID = try container.required(Identifier.self, .customerID)
        occurredAt = try container.required(Timestamp.self, .occurredAt)
        kind = try container.optional(Kind.self, .kind) ?? .purchase
        originalOrderID = try container.optional(Identifier.self, .originalOrderID)
        amount = try container.required(Money.self, .amount)
        currency = try container.required(CurrencyCode.self, .currency)
        cost = try container.optional(Money.self, .cost)
        channel = try container.optional(String.self, .channel)
        // `"customer": {}` says what no customer says; one value for both keeps == and canonicalJSON agreeing.
        customer = try container.optional(OrderCustomer.self, .customer).flatMap { $0.isEmpty ? nil : $0 }
        items = try container.optional([OrderItem].self, .items) ?? []
        try validate(locatedAt: decoder.codingPath)
    }

    /// Encodes the order with the field names of `order.v1`; `kind` always, absent optionals left out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schema, forKey: .schema)
        try container.encode(orderID, forKey: .orderID)
        try container.encode(customerID, forKey: .customerID)
        try container.encode(occurredAt, forKey: .occurredAt)
        try container.encode(kind, forKey: .kind)
        try container.encodeIfPresent(originalOrderID, forKey: .originalOrderID)
        try container.encode(amount, forKey: .amount)
        try container.encode(currency, forKey: .currency)
        try container.encodeIfPresent(cost, forKey: .cost)
        try container.encodeIfPresent(channel, forKey: .channel)
        try container.encodeIfPresent(customer, forKey: .customer)
        if !items.isEmpty { try container.encode(items, forKey: .items) }
    }
}
