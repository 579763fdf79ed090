import Foundation

/// A customer's complaint (`complaint.v1`, routing key `complaint.v1.new` on `crm.complaints`).
///
/// ```json
/// {"schema": "complaint.v1", "complaint_id": "K-7", "customer_id": "C-42", "received_at": "2026-11-21T09:00:00Z",
///  "channel": "email", "subject": "Parcel never arrived", "body": "…", "order_id": "A-1001",
///  "category_hint": null, "language": "en"}
/// ```
/// Text may be in any language. A complaint from a customer the system has never seen is valid.
public struct ComplaintMessage: SchemaMessage {
    /// `complaint.v1`.
    public static let schema = "complaint.v1"

    /// The complaint's identifier.
    public var complaintID: Identifier
    /// The complaining customer, known to the system or not.
    public var customerID: Identifier
    /// When the complaint was received by the channel.
    public var receivedAt: Timestamp
    /// Where it came from, e.g. `email`, `phone`, `chat`.
    public var channel: String
    /// The subject line; a complaint has a subject, a body, or both.
    public var subject: String?
    /// The complaint's text, free and of any length the body limit allows.
    public var body: String?
    /// The order complained about, when known.
    public var orderID: Identifier?
    /// The sender's guess at a category; classification may overrule it.
    public var categoryHint: String?
    /// The text's language as a BCP 47 tag, e.g. `en`, `zh-Hans`.
    public var language: String?

    /// Creates a complaint; call ``validate()`` to check it.
    public init(
        complaintID: Identifier,
        customerID: Identifier,
        receivedAt: Timestamp,
        channel: String,
        subject: String? = nil,
        body: String? = nil,
        orderID: Identifier? = nil,
        categoryHint: String? = nil,
        language: String? = nil
    ) {
        self.complaintID = complaintID
        self.customerID = customerID
        self.receivedAt = receivedAt
        self.channel = channel
        self.subject = subject
        self.body = body
        self.orderID = orderID
        self.categoryHint = categoryHint
        self.language = language
    }

    /// Checks that there is a subject or a body, the labels and the language tag.
    public func validate() throws(MessageRejection) {
        let hasText = [subject, body].contains { text in
            text.map { !$0.allSatisfy(\.isWhitespace) } ?? false
        }
        guard hasText else {
            throw MessageRejection(.missingField, field: "subject", "missing (a complaint needs a subject or a body)")
        }
        try TextRules.check(label: channel, field: "channel")
        try TextRules.check(label: categoryHint, field: "category_hint")
        if let language, !Self.isLanguageTag(language) {
            throw MessageRejection(
                .invalidValue,
                field: "language",
                "not a BCP 47 language tag like \"en\" or \"zh-Hans\""
            )
        }
    }

    /// The shape of a BCP 47 tag: a 2–8 letter language, then hyphenated subtags of 1–8 letters or digits.
    private static func isLanguageTag(_ tag: String) -> Bool {
        let subtags = tag.utf8.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard tag.utf8.count <= 35, let primary = subtags.first, (2...8).contains(primary.count),
            primary.allSatisfy(isASCIILetter)
        else { return false }
        return subtags.dropFirst().allSatisfy { subtag in
            (1...8).contains(subtag.count) && subtag.allSatisfy { isASCIILetter($0) || isASCIIDigit($0) }
        }
    }

    private static func isASCIILetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
    }

    private static func isASCIIDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

// MARK: - JSON

extension ComplaintMessage {
    enum CodingKeys: String, CodingKey {
        case schema
        case complaintID = "complaint_id"
        case customerID = "customer_id"
        case receivedAt = "received_at"
        case channel, subject, body
        case orderID = "order_id"
        case categoryHint = "category_hint"
        case language
    }

    /// Decodes and validates a complaint; ``decode(body:)`` is the entry point for raw bodies.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.requireSchema(Self.schema, key: .schema)
        try self.init(fields: container)
        try validate(locatedAt: decoder.codingPath)
    }

    /// Decodes the complaint's own fields, without `schema`; a routed complaint carries them at its top level too.
    init(fields container: KeyedDecodingContainer<CodingKeys>) throws {
        complaintID = try container.required(Identifier.self, .complaintID)
        customerID = try container.required(Identifier.self, .customerID)
        receivedAt = try container.required(Timestamp.self, .receivedAt)
        channel = try container.required(String.self, .channel)
        subject = try container.optional(String.self, .subject)
        body = try container.optional(String.self, .body)
        orderID = try container.optional(Identifier.self, .orderID)
        categoryHint = try container.optional(String.self, .categoryHint)
        language = try container.optional(String.self, .language)
    }

    /// Encodes the complaint with the field names of `complaint.v1`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schema, forKey: .schema)
        try encodeFields(into: &container)
    }

    /// Encodes the complaint's own fields, without `schema`.
    func encodeFields(into container: inout KeyedEncodingContainer<CodingKeys>) throws {
        try container.encode(complaintID, forKey: .complaintID)
        try container.encode(customerID, forKey: .customerID)
        try container.encode(receivedAt, forKey: .receivedAt)
        try container.encode(channel, forKey: .channel)
        try container.encodeIfPresent(subject, forKey: .subject)
        try container.encodeIfPresent(body, forKey: .body)
        try container.encodeIfPresent(orderID, forKey: .orderID)
        try container.encodeIfPresent(categoryHint, forKey: .categoryHint)
        try container.encodeIfPresent(language, forKey: .language)
    }
}
