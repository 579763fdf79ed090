import Testing

@testable import CRMPostgres

/// The text parameters and COPY lines written for PostgreSQL: array literals of quoted elements, escaped in place.
struct PostgresTextTests {
    /// A text array of JSON bodies (quotes in every element) is the literal `array_in` reads back as the same strings.
    @Test func anArrayOfJSONBodiesIsQuotedAndEscaped() {
        let bodies = [#"{"id":"C-1","note":"a \"b\" c"}"#, #"back\slash"#, "plain", "é ✓ {}", ""]
        let literal = bodies.postgresText
        #expect(
            literal
                == #"{"{\"id\":\"C-1\",\"note\":\"a \\\"b\\\" c\"}","back\\slash","plain","é ✓ {}",""}"#
        )
        let withNull: [String?] = ["x", nil, #"say "hi""#]
        #expect(withNull.postgresText == #"{"x",NULL,"say \"hi\""}"#)
    }

    /// Escaping works in the array's own storage while it has room: a batch of five thousand JSON bodies, each escaped
    /// as it is appended, is written without the array ever being copied whole (which made such a batch quadratic).
    @Test func escapingKeepsTheArraysStorage() {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1 << 22)
        let before = bytes.withUnsafeBufferPointer { $0.baseAddress }
        var expected: [UInt8] = []
        for index in 0..<5_000 {
            let start = bytes.count
            bytes.append(contentsOf: #"{"customer_id":"C-\#(index)","tier":"gold"}"#.utf8)
            bytes.backslashEscape(from: start) { $0 == UInt8(ascii: "\"") ? $0 : nil }
            expected.append(contentsOf: #"{\"customer_id\":\"C-\#(index)\",\"tier\":\"gold\"}"#.utf8)
        }
        #expect(bytes == expected)
        #expect(bytes.withUnsafeBufferPointer { $0.baseAddress } == before)
    }

    /// A COPY text line escapes the backslash and the control characters that end fields and lines.
    @Test func copyTextEscapesTabsNewlinesAndBackslashes() {
        var bytes = Array("keep:".utf8)
        let start = bytes.count
        bytes.append(contentsOf: "a\tb\nc\rd\\e".utf8)
        bytes.backslashEscape(from: start) { byte in
            switch byte {
            case 92: 92
            case 9: 116
            case 10: 110
            case 13: 114
            default: nil
            }
        }
        #expect(String(decoding: bytes, as: UTF8.self) == #"keep:a\tb\nc\rd\\e"#)
    }
}
