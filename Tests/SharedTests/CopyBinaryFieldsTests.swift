import Testing

@testable import CRMPostgres

/// Reading the fields of a binary `COPY ... TO STDOUT` row, and the text format's unescaping.
@Suite struct CopyBinaryFieldsTests {
    /// A row of `fields`, each already in its send format (nil for NULL).
    static func row(_ fields: [[UInt8]?]) -> [UInt8] {
        var bytes = bigEndian(Int16(fields.count))
        for field in fields {
            guard let field else {
                bytes += bigEndian(Int32(-1))
                continue
            }
            bytes += bigEndian(Int32(field.count)) + field
        }
        return bytes
    }

    static func bigEndian<Integer: FixedWidthInteger>(_ value: Integer) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    /// A numeric in its send format: base-10000 digits, the weight of the first, the sign word.
    static func numeric(_ digits: [Int16], weight: Int16, sign: UInt16 = 0, scale: Int16 = 0) -> [UInt8] {
        bigEndian(Int16(digits.count)) + bigEndian(weight) + bigEndian(sign) + bigEndian(scale)
            + digits.flatMap { bigEndian($0) }
    }

    /// A one-dimensional array of `elements` of the type `oid`.
    static func array(_ elements: [[UInt8]?], oid: Int32) -> [UInt8] {
        var bytes = bigEndian(Int32(1)) + bigEndian(Int32(0)) + bigEndian(oid)
        bytes += bigEndian(Int32(elements.count)) + bigEndian(Int32(1))
        for element in elements {
            guard let element else {
                bytes += bigEndian(Int32(-1))
                continue
            }
            bytes += bigEndian(Int32(element.count)) + element
        }
        return bytes
    }

    static func read<T>(_ row: [UInt8], _ body: (inout CopyBinaryFields) throws -> T) throws -> T {
        try row.withUnsafeBytes { buffer in
            var fields = try CopyBinaryFields(row: buffer)
            return try body(&fields)
        }
    }

    @Test(arguments: [
        (numeric([1234, 5678], weight: 0), 1234.5678),
        (numeric([1234, 5678], weight: 0, sign: 0x4000), -1234.5678),
        (numeric([5000], weight: -1), 0.5),
        (numeric([1], weight: 2), 1e8),
        (numeric([1], weight: -8), 1e-32),
        (numeric([12, 3456, 7890, 1234, 5678], weight: 2), 1234567890.12345678),
        (numeric([], weight: 0), 0),
        (numeric([], weight: 0, sign: 0xD000), .infinity),
        (numeric([], weight: 0, sign: 0xF000), -.infinity),
    ])
    func numericsAreTheNearestDouble(_ field: [UInt8], _ expected: Double) throws {
        #expect(try Self.read(Self.row([field])) { try $0.numeric() } == expected)
    }

    @Test func numericNaNAndNullAreTold() throws {
        let (nan, null) = try Self.read(Self.row([Self.numeric([], weight: 0, sign: 0xC000), nil])) {
            (try $0.numeric(), try $0.numeric())
        }
        #expect(nan?.isNaN == true)
        #expect(null == nil)
    }

    @Test func everyScalarTypeAndNullReadsInOrder() throws {
        let row = Self.row([
            Array("é\tx".utf8), nil, [1], Self.bigEndian(Int32(-20089)), Self.bigEndian((-0.25).bitPattern), [],
        ])
        let fields = try Self.read(row) { fields in
            (
                fields.count, try fields.text(), try fields.text(), try fields.bool(), try fields.int32(),
                try fields.float8(), try fields.text()
            )
        }
        #expect(fields.0 == 6)
        #expect(fields.1 == "é\tx")
        #expect(fields.2 == nil)
        #expect(fields.3 == true)
        #expect(fields.4 == -20089)
        #expect(fields.5 == -0.25)
        #expect(fields.6 == "")
    }

    @Test func arraysAreAppendedAndEmptyOrNullOnesAddNothing() throws {
        var days = [7]
        var values: [Double] = []
        let empty = Self.bigEndian(Int32(0)) + Self.bigEndian(Int32(0)) + Self.bigEndian(Int32(23))
        let row = Self.row([
            Self.array([Self.bigEndian(Int32(20089)), Self.bigEndian(Int32(-3))], oid: 23),
            Self.array([Self.numeric([12], weight: 0), Self.numeric([2500], weight: -1, sign: 0x4000)], oid: 1700),
            empty, nil, Array("next".utf8),
        ])
        let next = try Self.read(row) { fields in
            try fields.int32s(into: &days)
            try fields.numerics(into: &values)
            try fields.int32s(into: &days)
            try fields.numerics(into: &values)
            return try fields.text()
        }
        #expect(days == [7, 20089, -3])
        #expect(values == [12, -0.25])
        #expect(next == "next")
    }

    @Test func aFieldOfAnotherTypeIsAnError() throws {
        let integers = Self.array([Self.bigEndian(Int32(1))], oid: 23)
        var values: [Double] = []
        var days: [Int] = []
        // An integer[] read as numeric[], a smallint as an integer, a NULL element, a row cut short.
        #expect(throws: PostgresError.self) { try Self.read(Self.row([integers])) { try $0.numerics(into: &values) } }
        #expect(throws: PostgresError.self) { try Self.read(Self.row([[0, 1]])) { try $0.int32() } }
        #expect(throws: PostgresError.self) {
            try Self.read(Self.row([Self.array([nil], oid: 23)])) { try $0.int32s(into: &days) }
        }
        #expect(throws: PostgresError.self) {
            try Self.read(Array(Self.row([Array("abc".utf8)]).dropLast())) { try $0.text() }
        }
        #expect(throws: PostgresError.self) { try Self.read(Self.row([])) { try $0.text() } }
    }

    @Test func textEscapesAreUndone() {
        var bytes: [UInt8] = []
        Array(#"a\tb\\c\nd\x"#.utf8).withUnsafeBytes { CopyText.unescape($0, into: &bytes) }
        #expect(String(decoding: bytes, as: UTF8.self) == "a\tb\\c\nd" + "x")
    }
}
