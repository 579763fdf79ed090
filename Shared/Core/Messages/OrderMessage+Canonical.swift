// MARK: - Canonical form

extension OrderMessage {
    /// The validated content of the order as canonical JSON, to tell a redelivery from a conflicting order.
    ///
    /// Intake stores a hash of this with the order; the same `order_id` arriving again with an equal canonical form
    /// is a harmless redelivery, with a different one a conflict. Equal here means equal content:
    /// - key order, white space and unknown members do not matter (only validated fields are written);
    /// - money is written by value (`"129.9"` and `129.90` both become `"129.90"`);
    /// - timestamps are written in UTC with milliseconds (`10:15+08:00` and `02:15Z` are one instant);
    /// - an absent `kind` is `purchase`, absent `items` are `[]`, and a `customer` with no fields is no customer.
    /// Item order does matter, as does any difference in text (no Unicode normalization is applied).
    public var canonicalJSON: String {
        canonicalValue.text
    }

    private var canonicalValue: CanonicalJSON {
        .object([
            ("schema", .string(Self.schema)),
            ("order_id", .string(orderID.rawValue)),
            ("customer_id", .string(customerID.rawValue)),
            ("occurred_at", .string(occurredAt.rfc3339)),
            ("kind", .string(kind.rawValue)),
            ("original_order_id", originalOrderID.map { .string($0.rawValue) }),
            ("amount", .string(amount.description)),
            ("currency", .string(currency.code)),
            ("cost", cost.map { .string($0.description) }),
            ("channel", channel.map { .string($0) }),
            ("customer", customer.flatMap(Self.canonical(_:))),
            ("items", .array(items.map(Self.canonical(_:)))),
        ])
    }

    private static func canonical(_ customer: OrderCustomer) -> CanonicalJSON? {
        guard !customer.isEmpty else { return nil }
        return .object([
            ("name", customer.name.map { .string($0) }),
            ("email", customer.email.map { .string($0) }),
            ("region", customer.region.map { .string($0) }),
            ("type", customer.type.map { .string($0.rawValue) }),
        ])
    }

    private static func canonical(_ item: OrderItem) -> CanonicalJSON {
        .object([
            ("sku", .string(item.sku)),
            ("quantity", .integer(item.quantity)),
            ("unit_price", item.unitPrice.map { .string($0.description) }),
            ("category", item.category.map { .string($0) }),
        ])
    }
}
