import Foundation
import Testing

@testable import CRMContract
@testable import CRMSupport

/// Bodies written to hurt: each is refused with a reason, none traps, none takes long.
@Suite("Hostile input")
struct MessageHostileInputTests {
    @Test("deep nesting is refused before anything recurses into it")
    func deepNesting() {
        let arrays = #"{"schema": "order.v1", "x": "# + String(repeating: "[", count: 300_000)
        #expect(reason(Data(arrays.utf8)) == "body: larger than 262144 bytes")
        let fits = #"{"schema": "order.v1", "x": "# + String(repeating: "[", count: 100_000)
        #expect(reason(Data(fits.utf8)) == "body: nested deeper than 32 levels")
        let objects = #"{"schema": "order.v1", "x": "# + String(repeating: #"{"a":"#, count: 40_000)
        #expect(reason(Data(objects.utf8)) == "body: nested deeper than 32 levels")
    }

    @Test("the depth limit is exact: 32 levels pass, 33 do not")
    func depthLimit() {
        func nested(_ levels: Int) -> String {
            String(repeating: "[", count: levels - 1) + String(repeating: "]", count: levels - 1)
        }
        #expect(reason(Fixture.order(["x": nested(32)])) == "accepted")
        #expect(reason(Fixture.order(["x": nested(33)])) == "body: nested deeper than 32 levels")
    }

    @Test("the size limit is exact: 262144 bytes pass, one more does not")
    func sizeLimit() {
        let base = Fixture.order()
        let padding = MessageBody.maximumSize - base.count
        let exact = Data(repeating: 0x20, count: padding) + base
        #expect(exact.count == 262_144)
        #expect(reason(exact) == "accepted")
        #expect(reason(Data([0x20]) + exact) == "body: larger than 262144 bytes")
    }

    @Test(
        "ill-formed UTF-8 is refused",
        arguments: [
            [0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE4, 0xB8], [0x80],
            [0xF8, 0x88, 0x80, 0x80, 0x80],
        ] as [[UInt8]]
    )
    func invalidUTF8(bytes: [UInt8]) {
        let body = Data(#"{"schema": "order.v1", "order_id": ""#.utf8) + Data(bytes) + Data(#""}"#.utf8)
        #expect(reason(body) == "body: not valid UTF-8")
    }

    @Test(
        "duplicate keys are refused at their path, whatever their spelling",
        arguments: [
            (#"{"amount": "1.00", "schema": "order.v1", "amount": "1000.00"}"#, "amount: duplicate key"),
            (#"{"schema": "order.v1", "\u0061mount": "1", "amount": "2"}"#, "amount: duplicate key"),
            (#"{"schema": "order.v1", "schema": "order.v1"}"#, "schema: duplicate key"),
            (#"{"schema": "order.v1", "customer": {"email": "a@b", "email": "c@d"}}"#, "customer.email: duplicate key"),
            (#"{"schema": "order.v1", "items": [{}, {"sku": "a", "sku": "b"}]}"#, "items[1].sku: duplicate key"),
            (#"{"schema": "order.v1", "x y": 1, "x y": 2}"#, #"["x y"]: duplicate key"#),
            ("{\"schema\": \"order.v1\", \"caf\u{E9}\": 1, \"cafe\u{301}\": 2}", #"["café"]: duplicate key"#),
        ]
    )
    func duplicateKeys(text: String, expected: String) throws {
        let refusal = try #require(rejection(Data(text.utf8), as: OrderMessage.self))
        #expect(refusal.reason == expected)
        #expect(refusal.code == .invalidJSON)
    }

    /// Objects with more members than the short list holds are checked by the set that takes over, repeats at any
    /// position included.
    @Test func duplicateKeysInLargeObjects() throws {
        let names = (0..<40).map { "k\($0)" }
        func body(_ members: [String]) -> Data {
            Data(("{\"schema\": \"order.v1\", " + members.map { "\"\($0)\": 1" }.joined(separator: ", ") + "}").utf8)
        }
        #expect(rejection(body(names), as: OrderMessage.self)?.reason.contains("duplicate key") != true)
        for repeated in [3, 15, 16, 17, 39] {
            let refusal = try #require(rejection(body(names + [names[repeated]]), as: OrderMessage.self))
            #expect(refusal.reason == "k\(repeated): duplicate key")
        }
    }

    @Test(
        "tokens outside JSON are refused as syntax errors",
        arguments: [
            "NaN", "-NaN", "Infinity", "-Infinity", "+1", ".5", "1.", "0x10", "1e", "--1", "'1'", "undefined", "nul",
            "True",
        ]
    )
    func nonJSONTokens(token: String) {
        #expect(reason(Fixture.order(["amount": token])).hasPrefix("body: not valid JSON ("))
    }

    @Test(
        "other syntax abuse is refused",
        arguments: [
            #"{"schema": "order.v1", "a": [1, 2,]}"#, #"{"schema": "order.v1" /* c */}"#, #"{'schema': 'order.v1'}"#,
            #"{schema: "order.v1"}"#, "{\"schema\": \"order\u{1}.v1\"}", #"{"schema": "order.v1", "a": "\ud800"}"#,
            #"{"schema": "order.v1", "a": "\udc00\ud800"}"#, #"{"schema": "order.v1", "a": "\u12"}"#,
            #"{"schema": "order.v1""#,
            #"{"schema": "order.v1", "a": tru}"#, #"{"schema": "order.v1"}}"#, "{\"schema\"\u{0B}: \"order.v1\"}",
        ]
    )
    func syntaxAbuse(text: String) {
        #expect(reason(Data(text.utf8)).hasPrefix("body: not valid JSON ("))
    }

    @Test(
        "numbers Decimal cannot hold exactly are refused, even in unknown fields",
        arguments: [
            ("1e400", "x: number out of range"), ("-1e400", "x: number out of range"),
            ("1e-400", "x: number out of range"),
            ("0e999999999999999999999", "x: number out of range"),
            (String(repeating: "9", count: 39), "x: number out of range"),
            ("0." + String(repeating: "0", count: 200) + "1", "x: number out of range"),
            ("1e127", "accepted"), ("1e-128", "accepted"), (String(repeating: "9", count: 38), "accepted"),
            ("1" + String(repeating: "0", count: 37) + "e89", "accepted"),
        ]
    )
    func numberRange(json: String, expected: String) {
        #expect(reason(Fixture.order(["x": json])) == expected)
    }

    @Test("a NUL character is refused: PostgreSQL cannot store it")
    func nul() {
        #expect(reason(Fixture.order(["channel": #""w\u0000b""#])) == #"channel: contains a NUL character (\u0000)"#)
        #expect(reason(Fixture.order(["\\u0000": "1"])) == #"body: contains a NUL character (\u0000)"#)
    }

    @Test(
        "unusual but valid JSON is accepted, and JSONDecoder agrees",
        arguments: [
            "1E+2", "-0.0e-0", "0.1e1", "-0", #""\/\b\f\n\r\t\"\\""#, "\"\u{7F}\u{2028}\"", #""\ud83d\ude00""#,
            #""\uFFFF""#, "[]", "{}", #"{"": ""}"#, "[[[], {}], [null, true, false]]", " \t\r\n 1 \n",
        ]
    )
    func validOddities(json: String) {
        #expect(reason(Fixture.order(["x": json])) == "accepted")
    }

    @Test("a byte order mark is ignored, as RFC 8259 allows")
    func byteOrderMark() {
        #expect(reason(Data([0xEF, 0xBB, 0xBF]) + Fixture.order()) == "accepted")
    }

    @Test("many members and long strings within the size limit decode quickly")
    func wide() {
        let members = (0..<12_000).map { "\"k\($0)\": \($0)" }.joined(separator: ", ")
        #expect(reason(Fixture.order(["x": "{\(members)}"])) == "accepted")
        let text = "\"\(String(repeating: "长", count: 80_000))\""
        #expect(reason(Fixture.order(["x": text])) == "accepted")
    }

    @Test("random damage to a valid body never traps, and every refusal names a field")
    func mutations() {
        let original = [UInt8](Fixture.order())
        let bytes: [UInt8] = Array(#"{}[]":,\0123456789eE.-+tfnu"#.utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xA9, 0xFF]
        var state: UInt64 = 42
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % bound
        }
        for _ in 0..<3_000 {
            var body = original
            for _ in 0...next(4) {
                switch next(3) {
                case 0: body[next(body.count)] = bytes[next(bytes.count)]
                case 1: body.insert(bytes[next(bytes.count)], at: next(body.count))
                default: body.removeSubrange(next(body.count)..<body.count)
                }
                if body.isEmpty { break }
            }
            guard let refusal = rejection(Data(body), as: OrderMessage.self) else { continue }
            #expect(!refusal.field.isEmpty && !refusal.problem.isEmpty)
            // The scanner must never pass what JSONDecoder then refuses as unparseable.
            #expect(
                refusal.problem != "not valid JSON (refused by JSONDecoder)",
                "\(String(decoding: body, as: UTF8.self))"
            )
        }
    }

    @Test("a zero with an unsigned exponent, which Foundation's decoder cannot read, is refused with a reason")
    func zeroWithExponent() {
        #expect(
            reason(Fixture.order(["amount": "0e4"])) == "amount: zero with an exponent (0e4) is not accepted; write 0"
        )
        #expect(
            reason(Fixture.order(["amount": "0E4"])) == "amount: zero with an exponent (0e4) is not accepted; write 0"
        )
        #expect(reason(Fixture.order(["amount": "0e+4"])) == "accepted")
        #expect(reason(Fixture.order(["amount": "0.0e4"])) == "accepted")
    }
}
