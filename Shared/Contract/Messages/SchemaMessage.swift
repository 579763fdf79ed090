import CRMSupport
import Foundation

/// A message with a fixed `schema` name: decoded from a raw body with every rule checked, encoded with the spec's keys.
///
/// Leaf values (``Money``, ``Timestamp``, ``Identifier``, ``CurrencyCode``) are valid by construction; ``validate()``
/// checks the rest: labels, ranges and rules across fields. Decoding runs it; so does ``encodedBody()``.
public protocol SchemaMessage: Codable, Sendable, Equatable {
    /// The value of the `schema` field, e.g. `order.v1`.
    static var schema: String { get }

    /// Checks the rules that the field types cannot express, naming the field at fault.
    func validate() throws(MessageRejection)
}

extension SchemaMessage {
    /// Runs ``validate()`` from inside `init(from:)`, locating a rejection at the decoder's path
    /// so that a message nested in another names its full field path.
    func validate(locatedAt codingPath: [any CodingKey]) throws(MessageRejection) {
        do {
            try validate()
        } catch {
            throw error.located(at: codingPath)
        }
    }

    /// Decodes and validates a raw message body, or says why it cannot be accepted.
    ///
    /// Checks run in this order: size, UTF-8, JSON (syntax, depth, duplicate keys, number range), `schema`, fields.
    /// Hostile input is refused with a reason; this never traps.
    public static func decode(body: Data) throws(MessageRejection) -> Self {
        let checked = try MessageBody.check(body)
        guard checked.schema == schema else { throw MessageBody.unknownSchema(checked.schema) }
        return try MessageBody.decode(Self.self, from: checked)
    }

    /// Validates the message and encodes it as a body to publish: UTF-8 JSON with sorted keys.
    public func encodedBody() throws(MessageRejection) -> Data {
        try validate()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(self)
        } catch {
            // Every field type encodes without failing; reaching this is a bug, reported rather than trapped.
            throw MessageRejection(.invalidValue, field: "body", "could not be encoded")
        }
    }
}
