/// What an upstream system knows of the customer behind an order; every field is optional.
///
/// Name and email are personal data: they are stored, never logged and never quoted in a rejection.
public struct OrderCustomer: Codable, Sendable, Hashable {
    /// Why the customer buys.
    public enum CustomerType: String, MessageVocabulary {
        /// Buys to use.
        case `final`
        /// Buys to resell.
        case intermediate
    }

    /// The customer's name, free text.
    public var name: String?
    /// The customer's email address.
    public var email: String?
    /// The sales region, e.g. `east`.
    public var region: String?
    /// Final customer or intermediary.
    public var type: CustomerType?

    /// Creates a customer description.
    public init(name: String? = nil, email: String? = nil, region: String? = nil, type: CustomerType? = nil) {
        self.name = name
        self.email = email
        self.region = region
        self.type = type
    }

    /// Whether nothing is known; such a customer is the same as none in canonical JSON.
    public var isEmpty: Bool { name == nil && email == nil && region == nil && type == nil }

    /// Checks the region label and the shape of the email address; fields are named relative to the customer.
    public func validate() throws(MessageRejection) {
        if let email {
            // Deliberately loose: one "@" with something on each side. Mail servers are the judge of the rest.
            let parts = email.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, email.utf8.count <= 254,
                TextRules.problem(inLabel: email, maximumLength: 254) == nil
            else {
                throw MessageRejection(.invalidValue, field: "email", "not an email address")
            }
        }
        try TextRules.check(label: region, field: "region")
    }

    enum CodingKeys: String, CodingKey {
        case name, email, region, type
    }

    /// Decodes and validates a customer description.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.optional(String.self, .name)
        email = try container.optional(String.self, .email)
        region = try container.optional(String.self, .region)
        type = try container.optional(CustomerType.self, .type)
        do throws(MessageRejection) {
            try validate()
        } catch {
            throw error.located(at: decoder.codingPath)
        }
    }

    /// Encodes the known fields with the names of `order.v1`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(email, forKey: .email)
        try container.encodeIfPresent(region, forKey: .region)
        try container.encodeIfPresent(type, forKey: .type)
    }
}
