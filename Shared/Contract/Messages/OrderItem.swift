/// One line of an order: a product, how many, and at what unit price.
public struct OrderItem: Codable, Sendable, Hashable {
    /// The rule for `quantity`, also its rejection text.
    static let quantityRule = "must be a positive integer"
    /// The largest quantity accepted: PostgreSQL's `integer`.
    public static let maximumQuantity = Int(Int32.max)

    /// The product's stock-keeping unit.
    public var sku: String
    /// How many units, at least 1.
    public var quantity: Int
    /// The price of one unit in the order's currency; optional.
    public var unitPrice: Money?
    /// The product category, e.g. `books`; optional.
    public var category: String?

    /// Creates an order line.
    public init(sku: String, quantity: Int, unitPrice: Money? = nil, category: String? = nil) {
        self.sku = sku
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.category = category
    }

    /// Checks the labels and the quantity; fields are named relative to the item.
    public func validate() throws(MessageRejection) {
        try TextRules.check(label: sku, field: "sku")
        try TextRules.check(quantity, in: 1...Self.maximumQuantity, field: "quantity", rule: Self.quantityRule)
        try TextRules.check(label: category, field: "category")
    }

    enum CodingKeys: String, CodingKey {
        case sku, quantity
        case unitPrice = "unit_price"
        case category
    }

    /// Decodes and validates an order line.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sku = try container.required(String.self, .sku)
        quantity = try container.requiredInteger(.quantity, rule: Self.quantityRule)
        unitPrice = try container.optional(Money.self, .unitPrice)
        category = try container.optional(String.self, .category)
        do throws(MessageRejection) {
            try validate()
        } catch {
            throw error.located(at: decoder.codingPath)
        }
    }

    /// Encodes the line with the field names of `order.v1`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sku, forKey: .sku)
        try container.encode(quantity, forKey: .quantity)
        try container.encodeIfPresent(unitPrice, forKey: .unitPrice)
        try container.encodeIfPresent(category, forKey: .category)
    }
}
