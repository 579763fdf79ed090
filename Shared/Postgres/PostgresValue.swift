import CRMSupport
import Foundation

/// A Swift value bound as a statement parameter, in PostgreSQL's text format.
///
/// Parameters always travel separately from the statement text (`$1`, `$2`, ...), so no value is
/// ever spliced into SQL.
public protocol PostgresEncodable: Sendable {
    /// The text form PostgreSQL parses for the parameter's type; `nil` is SQL NULL.
    var postgresText: String? { get }

    /// Appends ``postgresText``'s UTF-8 to `bytes`, or returns false (appending nothing) for SQL NULL.
    ///
    /// Statements build their parameters this way: a batch's array parameter holds thousands of elements, and
    /// appending each one's bytes costs a fraction of making a `String` per element. The default goes through
    /// ``postgresText``; the types batches bind element-wise write their bytes directly.
    func appendPostgresText(to bytes: inout [UInt8]) -> Bool
}

extension PostgresEncodable {
    public func appendPostgresText(to bytes: inout [UInt8]) -> Bool {
        guard let text = postgresText else { return false }
        bytes.append(contentsOf: text.utf8)
        return true
    }
}

/// A Swift type a result column decodes into, from PostgreSQL's text format.
public protocol PostgresDecodable {
    init(postgresText text: String) throws(PostgresError)
}

extension String: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self }
    public func appendPostgresText(to bytes: inout [UInt8]) -> Bool {
        bytes.append(contentsOf: utf8)
        return true
    }
    public init(postgresText text: String) { self = text }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public func appendPostgresText(to bytes: inout [UInt8]) -> Bool {
        bytes.appendDecimal(Int(self))
        return true
    }
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = Int(text) else { throw .decoding(text, as: "Int") }
        self = value
    }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public func appendPostgresText(to bytes: inout [UInt8]) -> Bool {
        bytes.appendDecimal(Int(self))
        return true
    }
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = Int64(text) else { throw .decoding(text, as: "Int64") }
        self = value
    }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public func appendPostgresText(to bytes: inout [UInt8]) -> Bool {
        bytes.appendDecimal(Int(self))
        return true
    }
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
    public func appendPostgresText(to bytes: inout [UInt8]) -> Bool {
        bytes.append(contentsOf: self ? "true".utf8 : "false".utf8)
        return true
    }
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
    public var postgresText: String? { UTCDateTime.format(self) }
    public func appendPostgresText(to bytes: inout [UInt8]) -> Bool {
        UTCDateTime.append(self, to: &bytes)
        return true
    }
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
    public func appendPostgresText(to bytes: inout [UInt8]) -> Bool {
        self?.appendPostgresText(to: &bytes) ?? false
    }
}

extension Array: PostgresEncodable where Element: PostgresEncodable {
    /// A one-dimensional array literal with every element quoted, for `unnest($1::text[])` batch writes.
    public var postgresText: String? {
        var bytes: [UInt8] = []
        _ = appendPostgresText(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Each element's bytes go straight into the literal; `"` and `\` (single bytes that never occur inside a
    /// multi-byte sequence) are escaped afterwards, in the rare element that holds one.
    public func appendPostgresText(to bytes: inout [UInt8]) -> Bool {
        let quote = UInt8(ascii: "\"")
        let backslash = UInt8(ascii: "\\")
        bytes.reserveCapacity(bytes.count + count * 16 + 2)
        bytes.append(UInt8(ascii: "{"))
        for index in indices {
            if index > startIndex { bytes.append(UInt8(ascii: ",")) }
            bytes.append(quote)
            let start = bytes.count
            guard self[index].appendPostgresText(to: &bytes) else {
                bytes[start - 1] = UInt8(ascii: "N")
                bytes.append(contentsOf: "ULL".utf8)
                continue
            }
            bytes.backslashEscape(from: start) { $0 == quote || $0 == backslash ? $0 : nil }
            bytes.append(quote)
        }
        bytes.append(UInt8(ascii: "}"))
        return true
    }
}

extension [UInt8] {
    /// Escapes the text from `start` to the end in place: each byte `escape` maps to a letter becomes a backslash and
    /// that letter. Text that needs no escape is only scanned.
    ///
    /// The bytes are read through a pointer and the array changed only once nothing else refers to its storage: a
    /// slice of it alive across the change made the array copy itself whole, once for every element escaped, which
    /// was quadratic in a batch of JSON bodies (every one of them holds quotes) and half of a full rescoring's
    /// client time at ten million customers.
    mutating func backslashEscape(from start: Int, _ escape: (UInt8) -> UInt8?) {
        let pending: [UInt8]? = withUnsafeBufferPointer { all in
            guard let first = all[start...].firstIndex(where: { escape($0) != nil }) else { return nil }
            return Array(all[first...])
        }
        guard let pending else { return }
        removeLast(pending.count)  // keeps the capacity; the appends below grow it geometrically
        for byte in pending {
            if let letter = escape(byte) {
                append(UInt8(ascii: "\\"))
                append(letter)
            } else {
                append(byte)
            }
        }
    }
}

extension PostgresError {
    static func decoding(_ text: String, as type: String) -> PostgresError {
        PostgresError(.decodingFailed, message: "cannot decode \(type) from a \(text.count)-character value")
    }
}
