import Foundation

/// Reads the fields of one line of PostgreSQL's `COPY ... TO STDOUT` text format in order.
///
/// Numbers are parsed straight from the bytes; only text fields are unescaped. A full rescoring reads
/// millions of lines, so nothing here allocates except ``text()``.
public struct CopyLine {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The raw bytes of the next field, `nil` for SQL NULL (`\N`).
    private mutating func nextField() -> UnsafeRawBufferPointer? {
        let start = position
        while position < bytes.count, bytes[position] != 9 { position += 1 }
        let end = position
        position += 1
        let field = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        if field.count == 2, field[0] == 92, field[1] == 78 { return nil }
        return field
    }

    /// The next field as text with COPY's backslash escapes undone.
    public mutating func text() throws(PostgresError) -> String? {
        guard let field = nextField() else { return nil }
        guard field.contains(92) else { return String(decoding: field, as: UTF8.self) }
        var unescaped = [UInt8]()
        Self.unescape(field, into: &unescaped)
        return String(decoding: unescaped, as: UTF8.self)
    }

    /// Appends `field` to `bytes` with COPY's backslash escapes (`\t`, `\n`, `\\`, ...) undone.
    public static func unescape(_ field: UnsafeRawBufferPointer, into bytes: inout [UInt8]) {
        bytes.reserveCapacity(bytes.count + field.count)
        var index = 0
        while index < field.count {
            var byte = field[index]
            if byte == 92, index + 1 < field.count {
                index += 1
                switch field[index] {
                case 116: byte = 9
                case 110: byte = 10
                case 114: byte = 13
                case 98: byte = 8
                case 102: byte = 12
                case 118: byte = 11
                default: byte = field[index]
                }
            }
            bytes.append(byte)
            index += 1
        }
    }

    /// The next field as an integer; NULL is an error.
    public mutating func int() throws(PostgresError) -> Int {
        guard let field = nextField() else {
            throw PostgresError(.decodingFailed, message: "COPY field: " + "expected an integer")
        }
        return try Self.integer(field, "expected an integer")
    }

    /// The decimal integer `field` holds; `problem` names what was expected when it holds anything else.
    private static func integer(_ field: UnsafeRawBufferPointer, _ problem: String) throws(PostgresError) -> Int {
        guard !field.isEmpty else { throw PostgresError(.decodingFailed, message: "COPY field: " + problem) }
        var value = 0
        var negative = false
        for (index, byte) in field.enumerated() {
            if index == 0, byte == 45 {
                negative = true
                continue
            }
            guard byte >= 48, byte <= 57 else {
                throw PostgresError(.decodingFailed, message: "COPY field: " + problem)
            }
            value = value * 10 + Int(byte - 48)
        }
        return negative ? -value : value
    }

    /// The next field as a number, `nil` for NULL.
    public mutating func optionalDouble() throws(PostgresError) -> Double? {
        guard let field = nextField() else { return nil }
        // float8 output is short ("129.9", "1e+21"); Double's own parser handles every form PostgreSQL writes.
        let parsed = withUnsafeTemporaryAllocation(of: CChar.self, capacity: field.count + 1) { buffer -> Double? in
            for index in 0..<field.count { buffer[index] = CChar(bitPattern: field[index]) }
            buffer[field.count] = 0
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(buffer.baseAddress!, &end)
            return end == buffer.baseAddress! + field.count ? value : nil
        }
        guard let parsed else { throw PostgresError(.decodingFailed, message: "COPY field: " + "expected a number") }
        return parsed
    }

    /// The next field as a number; NULL is an error.
    public mutating func double() throws(PostgresError) -> Double {
        guard let value = try optionalDouble() else {
            throw PostgresError(.decodingFailed, message: "COPY field: " + "expected a number, got NULL")
        }
        return value
    }

    /// Passes over the next `count` fields unread.
    public mutating func skip(_ count: Int) {
        for _ in 0..<count { _ = nextField() }
    }

    /// The next field as a boolean (`t`/`f`).
    public mutating func optionalBool() -> Bool? {
        guard let field = nextField() else { return nil }
        return field.first == 116
    }

    /// The next field, a one-dimensional array of integers (`{1,2,3}`), appended to `values`; NULL and `{}` add
    /// nothing.
    public mutating func integers(into values: inout [Int]) throws(PostgresError) {
        try elements { element throws(PostgresError) in
            values.append(try Self.integer(element, "expected an array of integers"))
        }
    }

    /// The next field, a one-dimensional array of numbers (`{1.5,2,1e+21}`), appended to `values`; NULL and `{}` add
    /// nothing.
    public mutating func doubles(into values: inout [Double]) throws(PostgresError) {
        try elements { element throws(PostgresError) in
            var parser = CopyLine(element)
            values.append(try parser.double())
        }
    }

    /// Calls `body` with each element of the next field, an array without quoted elements or nested arrays.
    private mutating func elements(
        _ body: (UnsafeRawBufferPointer) throws(PostgresError) -> Void
    ) throws(PostgresError) {
        guard let field = nextField() else { return }
        guard field.count >= 2, field.first == 123, field.last == 125 else {
            throw PostgresError(.decodingFailed, message: "COPY field: " + "expected an array")
        }
        guard field.count > 2 else { return }
        var start = 1
        for index in 1..<field.count where field[index] == 44 || index == field.count - 1 {
            try body(UnsafeRawBufferPointer(rebasing: field[start..<index]))
            start = index + 1
        }
    }
}
