import Foundation

/// Reads the fields of one row of `COPY ... TO STDOUT (FORMAT binary)` in order, each in PostgreSQL's binary send
/// format of its type (big-endian, a 4-byte length before each field, -1 for NULL).
///
/// Binary COPY spares the client every number's text: a full rescoring reads a million customers' sums and ten
/// million purchase days, and parsing their text was half of the client's time in the read. The caller knows each
/// column's type from its query; a field whose length does not fit the type read, or an array of another element
/// type, is a ``PostgresError/Code/decodingFailed`` error rather than a wrong number. Used through
/// ``PostgresConnection/copyOutBinary(_:_:)``. It reads the message in place: it lives no longer
/// than the call it is handed to.
public struct CopyBinaryFields {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0
    /// The number of fields in the row.
    public let count: Int

    init(row bytes: UnsafeRawBufferPointer) throws(PostgresError) {
        self.bytes = bytes
        guard bytes.count >= 2 else { throw Self.failure("a row shorter than its field count") }
        count = Int(Int16(bigEndian: bytes.loadUnaligned(as: Int16.self)))
        position = 2
    }

    /// The raw bytes of the next field, `nil` for SQL NULL.
    private mutating func field() throws(PostgresError) -> UnsafeRawBufferPointer? {
        guard position + 4 <= bytes.count else { throw Self.failure("a row ends before its fields") }
        let length = Int(Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: position, as: Int32.self)))
        position += 4
        guard length >= 0 else { return nil }
        guard position + length <= bytes.count else { throw Self.failure("a field runs past its row") }
        defer { position += length }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<position + length])
    }

    /// Passes over the next `count` fields unread.
    public mutating func skip(_ count: Int) throws(PostgresError) {
        for _ in 0..<count { _ = try field() }
    }

    /// The next field, a `text` (or `varchar`, `name`), as a string; nil for NULL.
    public mutating func text() throws(PostgresError) -> String? {
        guard let field = try field() else { return nil }
        return String(decoding: field, as: UTF8.self)
    }

    /// Calls `body` with the bytes of the next field, a `bytea` (or any type whose send format the caller reads
    /// itself), and returns what it returns; nil for NULL. The bytes live no longer than the call.
    public mutating func bytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result? {
        guard let field = try field() else { return nil }
        return try body(field)
    }

    /// The next field, a `boolean`; nil for NULL.
    public mutating func bool() throws(PostgresError) -> Bool? {
        guard let field = try field() else { return nil }
        guard field.count == 1 else { throw Self.failure("expected a boolean") }
        return field[0] != 0
    }

    /// The next field, an `integer`; nil for NULL.
    public mutating func int32() throws(PostgresError) -> Int? {
        guard let field = try field() else { return nil }
        guard field.count == 4 else { throw Self.failure("expected an integer") }
        return Int(Int32(bigEndian: field.loadUnaligned(as: Int32.self)))
    }

    /// The next field, a `bigint`; nil for NULL.
    public mutating func int64() throws(PostgresError) -> Int64? {
        guard let field = try field() else { return nil }
        guard field.count == 8 else { throw Self.failure("expected a bigint") }
        return Int64(bigEndian: field.loadUnaligned(as: Int64.self))
    }

    /// The next field, a `double precision`; nil for NULL.
    public mutating func float8() throws(PostgresError) -> Double? {
        guard let field = try field() else { return nil }
        guard field.count == 8 else { throw Self.failure("expected a double precision") }
        return Double(bitPattern: UInt64(bigEndian: field.loadUnaligned(as: UInt64.self)))
    }

    /// The next field, a `timestamp with time zone` (or `timestamp`), as seconds since 1970-01-01 UTC: the number
    /// `date_part('epoch', ...)` gives, without PostgreSQL computing it for every row (its binary form is
    /// microseconds since 2000-01-01, ±infinity at the ends of a 64-bit integer); nil for NULL.
    public mutating func timestamp() throws(PostgresError) -> Double? {
        guard let field = try field() else { return nil }
        guard field.count == 8 else { throw Self.failure("expected a timestamp") }
        let microseconds = Int64(bigEndian: field.loadUnaligned(as: Int64.self))
        switch microseconds {
        case .max: return .infinity
        case .min: return -.infinity
        default:
            // As PostgreSQL does: the microseconds since 1970 as an integer, then one division.
            let (since1970, overflow) = microseconds.addingReportingOverflow(946_684_800_000_000)
            return overflow ? .infinity : Double(since1970) / 1_000_000
        }
    }

    /// The next field, a `numeric`, as the double nearest to it (as `Double("...")` of its text gives); nil for NULL.
    public mutating func numeric() throws(PostgresError) -> Double? {
        guard let field = try field() else { return nil }
        return try Self.numeric(field)
    }

    /// The next field, a one-dimensional `integer[]`, appended to `values`; NULL and `{}` add nothing.
    public mutating func int32s(into values: inout [Int]) throws(PostgresError) {
        try elements(type: 23, "integer") { element throws(PostgresError) in
            guard element.count == 4 else { throw Self.failure("expected an array of integers") }
            values.append(Int(Int32(bigEndian: element.loadUnaligned(as: Int32.self))))
        }
    }

    /// The next field, a one-dimensional `numeric[]`, appended to `values` as ``numeric()`` reads each; NULL and `{}`
    /// add nothing.
    public mutating func numerics(into values: inout [Double]) throws(PostgresError) {
        try elements(type: 1700, "numeric") { element throws(PostgresError) in values.append(try Self.numeric(element))
        }
    }

    /// Calls `body` with each element of the next field, a one-dimensional array of the type `oid` without NULLs.
    private mutating func elements(
        type oid: Int32,
        _ name: String,
        _ body: (UnsafeRawBufferPointer) throws(PostgresError) -> Void
    ) throws(PostgresError) {
        guard let field = try field() else { return }
        func int32(at offset: Int) -> Int32 {
            Int32(bigEndian: field.loadUnaligned(fromByteOffset: offset, as: Int32.self))
        }
        guard field.count >= 12 else { throw Self.failure("expected an array of \(name)") }
        let dimensions = int32(at: 0)
        guard dimensions > 0 else { return }  // an empty array
        guard dimensions == 1, field.count >= 20, int32(at: 8) == oid else {
            throw Self.failure("expected a one-dimensional array of \(name)")
        }
        let elements = Int(int32(at: 12))
        var offset = 20
        for _ in 0..<elements {
            guard offset + 4 <= field.count else { throw Self.failure("an array ends before its elements") }
            let length = Int(int32(at: offset))
            offset += 4
            guard length >= 0, offset + length <= field.count else {
                throw Self.failure("an array of \(name) with a NULL element or one past its end")
            }
            try body(UnsafeRawBufferPointer(rebasing: field[offset..<offset + length]))
            offset += length
        }
    }

    /// A `numeric` in its send format (digit count, weight, sign, display scale, then base-10000 digits, all 16-bit)
    /// as the nearest double. Most figures (amounts with 4 decimals, up to 9 × 10^11) are a whole number below 2^53
    /// times a power of ten within 10^±22, for which one IEEE multiplication or division is the correctly rounded
    /// result; any other goes through the decimal text and `strtod`, as the text format would.
    static func numeric(_ field: UnsafeRawBufferPointer) throws(PostgresError) -> Double {
        func int16(at offset: Int) -> Int {
            Int(Int16(bigEndian: field.loadUnaligned(fromByteOffset: offset, as: Int16.self)))
        }
        guard field.count >= 8 else { throw failure("expected a numeric") }
        let digits = int16(at: 0)
        let weight = int16(at: 2)
        let sign = UInt16(bitPattern: Int16(int16(at: 4)))
        guard digits >= 0, field.count == 8 + 2 * digits else { throw failure("expected a numeric") }
        switch sign {
        case 0x0000, 0x4000: break
        case 0xC000: return .nan
        case 0xD000: return .infinity
        case 0xF000: return -.infinity
        default: throw failure("expected a numeric")
        }
        guard digits > 0 else { return 0 }
        let negative = sign == 0x4000
        // value = digits[0] digits[1] ... (base 10000) × 10000^(weight - digits + 1)
        let exponent = 4 * (weight - digits + 1)
        if digits <= 4, (-22...22).contains(exponent) {
            var mantissa: UInt64 = 0
            for index in 0..<digits { mantissa = mantissa * 10_000 + UInt64(int16(at: 8 + 2 * index)) }
            if mantissa < 1 << 53 {
                let power = CopyNumeric.powersOfTen[abs(exponent)]
                let magnitude = exponent >= 0 ? Double(mantissa) * power : Double(mantissa) / power
                return negative ? -magnitude : magnitude
            }
        }
        var text = negative ? "-" : ""
        for index in 0..<digits {
            let digit = String(int16(at: 8 + 2 * index))
            text += index == 0 ? digit : String(repeating: "0", count: 4 - digit.count) + digit
        }
        text += "e\(exponent)"
        guard let value = Double(text) else { throw failure("expected a numeric") }
        return value
    }

    private static func failure(_ problem: String) -> PostgresError {
        PostgresError(.decodingFailed, message: "binary COPY field: " + problem)
    }
}
