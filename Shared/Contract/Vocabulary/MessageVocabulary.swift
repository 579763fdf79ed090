import CRMSupport

/// A closed set of words a message field takes, such as `purchase` and `refund`.
///
/// Decoding an unknown word is refused with the words allowed, so the sender knows what to send instead.
public protocol MessageVocabulary: RawRepresentable, CaseIterable, Codable, CodingKeyRepresentable, Sendable, Hashable
where RawValue == String {}

extension MessageVocabulary {
    /// Decodes one of the words, or refuses naming the field and the words allowed.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        var field: String { FieldPath.render(decoder.codingPath) }  // rendered only for a rejection
        if container.decodeNil() {
            throw MessageRejection(.missingField, field: field, "must not be null")
        }
        guard let word = try? container.decode(String.self) else {
            throw MessageRejection(.wrongType, field: field, "expected one of \(Self.allowedWords)")
        }
        guard let value = Self(rawValue: word) else {
            throw MessageRejection(
                .invalidValue,
                field: field,
                "unknown \(MessageRejection.quoted(word)) (expected one of \(Self.allowedWords))"
            )
        }
        self = value
    }

    /// The allowed words, comma separated, for reasons.
    static var allowedWords: String {
        allCases.map(\.rawValue).joined(separator: ", ")
    }
}
