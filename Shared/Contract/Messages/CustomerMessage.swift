import Foundation

/// A customer registered or updated without an order (`customer.v1` on `crm.customers`).
///
/// ```json
/// {"schema": "customer.v1", "customer_id": "C-42", "registered_at": "2026-11-20T10:15:00+08:00",
///  "channel": "web", "name": "Li Lei", "email": "li@example.com", "region": "east", "type": "final"}
/// ```
/// Required: `schema`, `customer_id`, `registered_at`. Absent fields never erase what is known of the customer;
/// unknown members are ignored. Name and email are personal data: stored, never logged, never quoted in a rejection.
public struct CustomerMessage: SchemaMessage {
    /// `customer.v1`.
    public static let schema = "customer.v1"

    /// The customer.
    public var customerID: Identifier
    /// When the customer registered, by the upstream system's clock.
    public var registeredAt: Timestamp
    /// Where the customer registered, e.g. `web`; optional.
    public var channel: String?
    /// Name, email, region and type, each optional.
    public var customer: OrderCustomer

    /// Creates a registration; call ``validate()`` (or ``encodedBody()``) to check it.
    public init(
        customerID: Identifier,
        registeredAt: Timestamp,
        channel: String? = nil,
        customer: OrderCustomer = OrderCustomer()
    ) {
        self.customerID = customerID
        self.registeredAt = registeredAt
        self.channel = channel
        self.customer = customer
    }

    /// Checks the channel label, the region and the email address.
    public func validate() throws(MessageRejection) {
        try TextRules.check(label: channel, field: "channel")
        try customer.validate()
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case customerID = "customer_id"
        case registeredAt = "registered_at"
        case channel, name, email, region, type
    }

    /// Decodes and validates a registration; ``decode(body:)`` is the entry point for raw bodies.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.requireSchema(Self.schema, key: .schema)
        customerID = try container.required(Identifier.self, .customerID)
        registeredAt = try container.required(Timestamp.self, .registeredAt)
        channel = try container.optional(String.self, .channel)
        customer = OrderCustomer(
            name: try container.optional(String.self, .name),
            email: try container.optional(String.self, .email),
            region: try container.optional(String.self, .region),
            type: try container.optional(OrderCustomer.CustomerType.self, .type)
        )
        try validate(locatedAt: decoder.codingPath)
    }

    /// Encodes the registration with the field names of `customer.v1`, absent optionals left out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schema, forKey: .schema)
        try container.encode(customerID, forKey: .customerID)
        try container.encode(registeredAt, forKey: .registeredAt)
        try container.encodeIfPresent(channel, forKey: .channel)
        try container.encodeIfPresent(customer.name, forKey: .name)
        try container.encodeIfPresent(customer.email, forKey: .email)
        try container.encodeIfPresent(customer.region, forKey: .region)
        try container.encodeIfPresent(customer.type, forKey: .type)
    }
}
