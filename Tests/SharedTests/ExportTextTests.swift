import CRMSupport
import Foundation
import Testing

@Suite("CSV fields and JSON strings")
struct ExportTextTests {
    static func csv(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.appendCSVField(text)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func json(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.appendJSONString(text)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("plain text, numbers and Chinese go as they are")
    func plainFields() {
        #expect(Self.csv("C-42") == "C-42")
        #expect(Self.csv("129.9000") == "129.9000")
        #expect(Self.csv("李雷 东部") == "李雷 东部")
        #expect(Self.csv("") == "")
    }

    @Test("a comma, a quote, a line feed or a carriage return puts the field in quotes, quotes doubled")
    func quotedFields() {
        #expect(Self.csv("Li, Lei") == "\"Li, Lei\"")
        #expect(Self.csv("the \"best\"") == "\"the \"\"best\"\"\"")
        #expect(Self.csv("two\nlines") == "\"two\nlines\"")
        #expect(Self.csv("a\rb") == "\"a\rb\"")
        #expect(Self.csv("王, \"小\"\n明") == "\"王, \"\"小\"\"\n明\"")
    }

    @Test("JSON strings escape quotes, backslashes and control characters, and keep UTF-8")
    func jsonStrings() throws {
        #expect(Self.json("plain") == "\"plain\"")
        #expect(Self.json("a\"b\\c") == #""a\"b\\c""#)
        #expect(Self.json("\n\r\t\u{8}\u{c}") == #""\n\r\t\b\f""#)
        #expect(Self.json("\u{1}\u{1f}") == #""\u0001\u001f""#)
        #expect(Self.json("李雷 😀") == "\"李雷 😀\"")
        for text in ["李雷, \"x\"\n", "\u{0}\u{7f}", "/ slash"] {
            let decoded = try JSONSerialization.jsonObject(with: Data(Self.json(text).utf8), options: .fragmentsAllowed)
            #expect(decoded as? String == text)
        }
    }
}
