import CRMSupport
import Foundation

/// Field access that reports problems as ``MessageRejection``s naming the field.
extension KeyedDecodingContainer {
    /// Decodes a field that must be present and not null.
    func required<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        try requirePresence(key)
        return try decode(T.self, forKey: key)
    }

    /// Refuses a member that is absent (`missing`) or null (`must not be null`).
    private func requirePresence(_ key: Key) throws {
        guard contains(key) else { throw MessageRejection(.missingField, field: path(key), "missing") }
        guard try !decodeNil(forKey: key) else {
            throw MessageRejection(.missingField, field: path(key), "must not be null")
        }
    }

    /// Checks that the `schema` member names `expected`, for decoders used without ``SchemaMessage/decode(body:)``.
    func requireSchema(_ expected: String, key: Key) throws {
        let found = try required(String.self, key)
        guard found == expected else { throw MessageBody.unknownSchema(found) }
    }

    /// Decodes a field that may be absent or null.
    func optional<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        try decodeIfPresent(T.self, forKey: key)
    }

    /// Decodes a whole number, going through `Decimal` so that `2.0` counts and `2.5` is refused with `rule`.
    ///
    /// JSONDecoder's own `Int` decoding refuses `2.5` without naming the field, hence the detour.
    func requiredInteger(_ key: Key, rule: String) throws -> Int {
        try requirePresence(key)
        guard let value = try optionalInteger(key, rule: rule) else {
            throw MessageRejection(.missingField, field: path(key), "missing")
        }
        return value
    }

    /// Decodes a whole number that may be absent or null; see ``requiredInteger(_:rule:)``.
    func optionalInteger(_ key: Key, rule: String) throws -> Int? {
        let decimal: Decimal?
        do {
            decimal = try decodeIfPresent(Decimal.self, forKey: key)
        } catch DecodingError.typeMismatch {
            throw MessageRejection(.wrongType, field: path(key), rule)
        }
        guard let decimal else { return nil }
        guard let value = Self.exactInteger(decimal) else {
            throw MessageRejection(.invalidValue, field: path(key), rule)
        }
        return value
    }

    /// Decodes a number that may be absent or null, refusing other types with `rule`.
    func optionalNumber(_ key: Key, rule: String) throws -> Double? {
        do {
            return try decodeIfPresent(Double.self, forKey: key)
        } catch DecodingError.typeMismatch {
            throw MessageRejection(.wrongType, field: path(key), rule)
        }
    }

    /// The rendered path of a member of this container.
    func path(_ key: Key) -> String {
        FieldPath.render(codingPath + [key])
    }

    /// The integer a decimal holds exactly, when it is whole and within ±10^15 (exact in a `Double` too).
    private static func exactInteger(_ value: Decimal) -> Int? {
        guard value.isFinite, value.magnitude <= Decimal(1_000_000_000_000_000) else { return nil }
        let rounded = value.rounded(scale: 0)
        guard rounded == value else { return nil }
        return Int(rounded.description)
    }
}
