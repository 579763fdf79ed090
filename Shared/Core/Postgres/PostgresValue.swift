import Foundation

/// A Swift value bound as a statement parameter, in PostgreSQL's text format.
///
/// Parameters always travel separately from the statement text (`$1`, `$2`, ...), so no value is
/// ever spliced into SQL.
public protocol PostgresEncodable: Sendable {
    /// The text form PostgreSQL parses for the parameter's type; `nil` is SQL NULL.
    var postgresText: String? { get }
}

/// A Swift type a result column decodes into, from PostgreSQL's text format.
public protocol PostgresDecodable {
    init(postgresText text: String) throws(PostgresError)
}

extension String: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self }
    public init(postgresText text: String) { self = text }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = Int(text) else { throw .decoding(text, as: "Int") }
        self = value
    }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = Int64(text) else { throw .decoding(text, as: "Int64") }
        self = value
    }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = Int32(text) else { throw .decoding(text, as: "Int32") }
        self = value
    }
}

extension Double: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? {
        if isNaN { return "NaN" }
        if isInfinite { return self > 0 ? "Infinity" : "-Infinity" }
        return "\(self)"
    }
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = Double(text) else { throw .decoding(text, as: "Double") }
        self = value
    }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self ? "true" : "false" }
    public init(postgresText text: String) throws(PostgresError) {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw .decoding(text, as: "Bool")
        }
    }
}

extension Decimal: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { NSDecimalNumber(decimal: self).stringValue }
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else {
            throw .decoding(text, as: "Decimal")
        }
        self = value
    }
}

extension UUID: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { uuidString.lowercased() }
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = UUID(uuidString: text) else { throw .decoding(text, as: "UUID") }
        self = value
    }
}

extension Date: PostgresEncodable, PostgresDecodable {
    /// ISO 8601 in UTC with microseconds, which `timestamptz` parses exactly.
    public var postgresText: String? { PostgresTimestamp.format(self) }
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = PostgresTimestamp.parse(text) else { throw .decoding(text, as: "Date") }
        self = value
    }
}

extension Data: PostgresEncodable {
    /// `bytea` in hex format.
    public var postgresText: String? {
        var text = "\\x"
        text.reserveCapacity(2 + count * 2)
        for byte in self { text += String(byte, radix: 16).leftPadded(to: 2) }
        return text
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresText: String? { self?.postgresText }
}

extension Array: PostgresEncodable where Element: PostgresEncodable {
    /// A one-dimensional array literal with every element quoted, for `unnest($1::text[])` batch writes.
    public var postgresText: String? {
        // Built as UTF-8 bytes: `"` and `\` are single bytes that never occur inside a multi-byte
        // sequence, and appending bytes is many times faster than appending scalars to a String.
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(count * 16 + 2)
        for (index, element) in enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            guard let value = element.postgresText else {
                bytes.append(contentsOf: "NULL".utf8)
                continue
            }
            bytes.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension PostgresError {
    static func decoding(_ text: String, as type: String) -> PostgresError {
        PostgresError(.decodingFailed, message: "cannot decode \(type) from a \(text.count)-character value")
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
