/// A closed set of words a message field takes, such as `purchase` and `refund`.
///
/// Decoding an unknown word is refused with the words allowed, so the sender knows what to send instead.
public protocol MessageVocabulary: RawRepresentable, CaseIterable, Codable, Sendable, Hashable
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

// MARK: - Vocabularies shared by several messages

/// How serious a complaint is; ordered from `low` to `critical`.
public enum ComplaintSeverity: String, MessageVocabulary, Comparable {
    /// An inconvenience; no loss to the customer.
    case low
    /// A real problem with a workaround.
    case medium
    /// A loss to the customer: money, goods or time.
    case high
    /// Safety, legal exposure or a public complaint; handled first.
    case critical

    /// Orders by seriousness, so `max()` gives the most serious.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        rank(lhs) < rank(rhs)
    }

    private static func rank(_ severity: Self) -> Int {
        allCases.firstIndex(of: severity) ?? 0
    }
}

/// How urgently a desk handles a routed complaint: `p1` first, `p4` last.
public enum ComplaintPriority: String, MessageVocabulary {
    /// Handled first.
    case p1
    /// Handled after `p1`.
    case p2
    /// Handled after `p2`.
    case p3
    /// Handled last.
    case p4
}

/// How valuable the customer behind a retention alert is: `p1` the most; also the `retention.pN` routing key.
public enum AlertPriority: String, MessageVocabulary {
    /// The most valuable customers at risk.
    case p1
    /// Valuable customers at risk.
    case p2
    /// Other customers worth a call.
    case p3

    /// The routing key on `crm.alerts`, e.g. `retention.p1`.
    public var routingKey: String { "retention." + rawValue }
}
