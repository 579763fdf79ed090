import Foundation

/// Why a message body was refused, in words a person can act on; the text of the `x-crm-error` header.
///
/// The reason always names the field first (`items[2].quantity: must be a positive integer`), or `body` when the
/// message as a whole is at fault. It never repeats free text or personal data from the message: only the values of
/// coded fields (`schema`, `currency`, enumerations) and member names are quoted back, at most 40 characters long and
/// with control characters escaped, so a reason is safe for logs, headers and metrics.
public struct MessageRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of a rejection: stable, suitable as a metrics label.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The body is over ``MessageBody/maximumSize``.
        case tooLarge = "too_large"
        /// The body is not well-formed UTF-8.
        case invalidUTF8 = "invalid_utf8"
        /// The body is not one JSON object within this project's limits (depth, duplicate keys).
        case invalidJSON = "invalid_json"
        /// The `schema` names a message this consumer does not take.
        case unknownSchema = "unknown_schema"
        /// A required field is absent or null.
        case missingField = "missing_field"
        /// A field holds the wrong JSON type.
        case wrongType = "wrong_type"
        /// A field has the right type but a value outside its rules.
        case invalidValue = "invalid_value"
        /// The id of something already stored, with different content: the first version stands.
        case conflict
        /// The message refers to something that does not exist (a complaint, an alert, a purchase).
        case unknownReference = "unknown_reference"
        /// The message could not be processed for a reason of the consumer's own (logged), not of its content.
        case processingFailed = "processing_failed"
        /// An internal event published by an account other than the service that owns it (its AMQP `user_id`).
        case untrustedPublisher = "untrusted_publisher"
    }

    /// The class of the problem.
    public let code: Code
    /// The field at fault (`order_id`, `customer.email`, `items[2].quantity`), `body` for the whole message, or
    /// empty when a value was checked on its own, outside any message.
    public let field: String
    /// What is wrong, lower case and without a final period, e.g. `negative`.
    public let problem: String

    /// Creates a rejection of `field` for `problem`.
    public init(_ code: Code, field: String, _ problem: String) {
        self.code = code
        self.field = field
        self.problem = problem
    }

    /// `field: problem`, the sentence for the `x-crm-error` header and the logs.
    public var reason: String { field.isEmpty ? problem : "\(field): \(problem)" }

    /// The same as ``reason``.
    public var description: String { reason }
}

// MARK: - Locating a problem inside a message

extension MessageRejection {
    /// The same problem, with `prefix` (a field path such as `items[2]`) put in front of the field.
    func within(_ prefix: String) -> MessageRejection {
        guard !prefix.isEmpty else { return self }
        let joined: String
        if field.isEmpty {
            joined = prefix
        } else if field.hasPrefix("[") {
            joined = prefix + field
        } else {
            joined = prefix + "." + field
        }
        return MessageRejection(code, field: joined, problem)
    }

    /// The same problem, located at a decoder's coding path.
    func located(at codingPath: [any CodingKey]) -> MessageRejection {
        within(FieldPath.render(codingPath))
    }

    /// Translates what Foundation's decoders report into a rejection naming the field.
    init(_ error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context):
            self.init(.missingField, field: FieldPath.render(context.codingPath + [key]), "missing")
        case .valueNotFound(_, let context):
            self.init(.missingField, field: FieldPath.render(context.codingPath), "must not be null")
        case .typeMismatch(let type, let context):
            self.init(.wrongType, field: FieldPath.render(context.codingPath), "expected \(Self.words(for: type))")
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            // The body scanner accepts only what JSONDecoder parses; reaching this means the two disagree.
            self.init(.invalidJSON, field: "body", "not valid JSON (refused by JSONDecoder)")
        case .dataCorrupted(let context):
            self.init(.invalidValue, field: FieldPath.render(context.codingPath), "not a valid value")
        @unknown default:
            self.init(.invalidValue, field: "body", "could not be decoded")
        }
    }

    /// Names a Swift type the way the sender thinks of JSON.
    private static func words(for type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Double.Type, is Float.Type, is Decimal.Type: return "a number"
        case is Int.Type, is Int64.Type, is Int32.Type: return "an integer"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "a different type"
        }
    }

    /// Quotes a value from a message for a reason: at most 40 characters, control characters escaped.
    public static func quoted(_ value: String) -> String {
        var out = "\""
        for (offset, scalar) in value.unicodeScalars.enumerated() {
            if offset == 40 {
                out += "…"
                break
            }
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format:
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
