import CRMSupport

/// An opaque identifier from a message (`order_id`, `customer_id`, …): non-empty, printable, at most 128 characters,
/// without invisible characters (zero-width spaces and joiners, soft hyphens, variation selectors, ...).
///
/// Characters here are Unicode scalars (see `TextRules`). Two identifiers are equal when their scalars are, as
/// PostgreSQL compares `text`: Swift's `String` equality would call a composed and a decomposed "é" equal, and the
/// database would then hold two rows that this process thinks are one.
public struct Identifier: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The longest identifier accepted, in Unicode scalars.
    public static let maximumLength = TextRules.maximumLength

    /// The identifier as sent.
    public let rawValue: String

    /// Creates an identifier, refusing empty, overlong, unprintable or invisible text and surrounding white space.
    public init(_ rawValue: String) throws(MessageRejection) {
        if let problem = TextRules.problem(inIdentifier: rawValue) {
            throw MessageRejection(.invalidValue, field: "", problem)
        }
        self.rawValue = rawValue
    }

    /// The identifier as sent.
    public var description: String { rawValue }

    /// Compares scalar by scalar, never by canonical equivalence.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.rawValue.unicodeScalars.elementsEqual(rhs.rawValue.unicodeScalars)
    }

    /// Hashes the scalars, consistently with ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) {
        for scalar in rawValue.unicodeScalars {
            hasher.combine(scalar.value)
        }
    }

    /// Orders by UTF-8 bytes, which is PostgreSQL's order under the `C` collation.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }

    /// Decodes a JSON string and checks it.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard !container.decodeNil() else {
            throw MessageRejection(.missingField, field: FieldPath.render(decoder.codingPath), "must not be null")
        }
        guard let text = try? container.decode(String.self) else {
            throw MessageRejection(.wrongType, field: FieldPath.render(decoder.codingPath), "expected a string")
        }
        do throws(MessageRejection) {
            try self.init(text)
        } catch {
            throw error.located(at: decoder.codingPath)
        }
    }

    /// Encodes the identifier as a JSON string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
