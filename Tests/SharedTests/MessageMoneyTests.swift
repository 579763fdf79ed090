import Foundation
import Testing

@testable import CRMContract
@testable import CRMSupport

@Suite("Money")
struct MessageMoneyTests {
    @Test(
        "accepts plain decimal strings and keeps their value",
        arguments: [
            ("0", "0.00"), ("0.0001", "0.0001"), ("129.90", "129.90"), ("129.9", "129.90"), ("5", "5.00"),
            ("0.125", "0.125"), ("1.50000", "1.50"), ("-0", "0.00"), ("-0.000", "0.00"),
            ("999999999999999.9999", "999999999999999.9999"), ("1000000", "1000000.00"),
        ]
    )
    func acceptsStrings(text: String, encoded: String) throws {
        #expect(try Money(text).description == encoded)
    }

    /// The value read straight from the digits equals Foundation's parse of the same text, and the description
    /// equals the one worked out from the value alone, across integer lengths, scales and trailing zeros.
    @Test func digitsGiveTheValueFoundationParses() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let integerDigits = Int.random(in: 1...15, using: &generator)
            var integer = String(Int.random(in: 1...9, using: &generator))
            for _ in 1..<integerDigits { integer += String(Int.random(in: 0...9, using: &generator)) }
            if Bool.random(using: &generator) { integer = "0" }
            let fraction = (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                String(Int.random(in: 0...9, using: &generator))
            }.joined()
            let zeros = String(repeating: "0", count: Int.random(in: 0...3, using: &generator))
            let text = fraction.isEmpty && zeros.isEmpty ? integer : integer + "." + fraction + zeros
            let money = try Money(text)
            let expected = try #require(Decimal(string: text, locale: nil))
            #expect(money.decimal == expected, "\(text)")
            #expect(money.description == Money.description(of: expected), "\(text)")
            #expect(try Money(expected) == money)
        }
    }

    @Test(
        "refuses malformed, negative, too precise and too large strings",
        arguments: [
            ("1.00001", "more than 4 fractional digits"),
            ("0.00001", "more than 4 fractional digits"),
            ("-1", "negative"),
            ("-0.0001", "negative"),
            ("12,5", #"not a decimal number like "129.90""#),
            ("", #"not a decimal number like "129.90""#),
            (" 1", #"not a decimal number like "129.90""#),
            ("1 ", #"not a decimal number like "129.90""#),
            ("+1", #"not a decimal number like "129.90""#),
            ("1e3", #"not a decimal number like "129.90""#),
            (".5", #"not a decimal number like "129.90""#),
            ("5.", #"not a decimal number like "129.90""#),
            ("01", #"not a decimal number like "129.90""#),
            ("1.2.3", #"not a decimal number like "129.90""#),
            ("１２", #"not a decimal number like "129.90""#),
            ("NaN", #"not a decimal number like "129.90""#),
            ("1000000000000000", "larger than 999999999999999.9999"),
        ]
    )
    func refusesStrings(text: String, problem: String) {
        #expect(throws: MessageRejection(.invalidValue, field: "", problem)) { try Money(text) }
    }

    @Test("compares and hashes by value, whatever the scale")
    func valueSemantics() throws {
        let short = try Money("129.9")
        let long = try Money("129.90")
        #expect(short == long)
        #expect(Set([short, long]).count == 1)
        #expect(try Money("0.0001") < Money("0.001"))
        let sum = try Money("0.1").decimal + Money("0.2").decimal
        #expect(sum == Decimal(string: "0.3"))
    }

    @Test("refuses NaN, negatives and excess precision given as Decimal")
    func refusesDecimals() {
        #expect(throws: MessageRejection(.invalidValue, field: "", "not a number")) { try Money(Decimal.nan) }
        #expect(throws: MessageRejection(.invalidValue, field: "", "negative")) { try Money(Decimal(-1)) }
        #expect(throws: MessageRejection(.invalidValue, field: "", "more than 4 fractional digits")) {
            try Money(Decimal(string: "0.00005") ?? 0)
        }
    }

    @Test(
        "reads JSON numbers through their digits, not through Double",
        arguments: [
            ("0.1", "0.10"), ("129.90", "129.90"), ("12345678901234.5678", "12345678901234.5678"),
            ("1E2", "100.00"), ("-0", "0.00"), ("0.0001", "0.0001"), ("999999999999999.9999", "999999999999999.9999"),
        ]
    )
    func exactNumbers(json: String, encoded: String) throws {
        let order = try OrderMessage.decode(body: Fixture.order(["amount": json]))
        #expect(order.amount.description == encoded)
        // Through Double, 12345678901234.5678 would come back as ...234.568 and 0.1 with binary noise.
        #expect(order.amount.decimal == Decimal(string: encoded))
    }

    @Test(
        "refuses bad amounts in a message, naming the field",
        arguments: [
            (#""-1""#, "amount: negative"),
            ("-1", "amount: negative"),
            ("1.00001", "amount: more than 4 fractional digits"),
            (#""1.00001""#, "amount: more than 4 fractional digits"),
            ("1e400", "amount: number out of range"),
            ("1e-400", "amount: number out of range"),
            ("123456789012345678901234567890123456789", "amount: number out of range"),
            ("1e20", "amount: larger than 999999999999999.9999"),
            (#""12,5""#, #"amount: not a decimal number like "129.90""#),
            ("true", "amount: expected a decimal string or number"),
            ("{}", "amount: expected a decimal string or number"),
            ("[1]", "amount: expected a decimal string or number"),
            ("null", "amount: must not be null"),
        ]
    )
    func refusesInMessage(json: String, expected: String) {
        #expect(reason(Fixture.order(["amount": json])) == expected)
    }

    @Test("encodes as a decimal string")
    func encodes() throws {
        let data = try JSONEncoder().encode([try Money("129.9"), try Money("0.0001")])
        #expect(String(decoding: data, as: UTF8.self) == #"["129.90","0.0001"]"#)
    }

    @Test("the description read from text is the one worked out from the value")
    func descriptionFromText() throws {
        var random = Mutator(seed: 20_261_123)
        var texts = ["0", "-0", "0.0", "0.0000", "0.0001", "5", "5.5", "5.50", "129.90", "129.9000000", "10", "100.01"]
        texts.append("999999999999999.9999")
        for _ in 0..<1_000 {
            let integer = random.next(4) == 0 ? "0" : String(1 + random.next(9)) + digits(random.next(15), &random)
            let fraction = digits(random.next(5), &random) + String(repeating: "0", count: random.next(4))
            texts.append(fraction.isEmpty ? integer : integer + "." + fraction)
        }
        for text in texts {
            let money = try Money(text)
            #expect(money.description == Money.description(of: money.decimal), "\(text)")
            let fromValue = try Money(money.decimal)
            #expect(money == fromValue && money.hashValue == fromValue.hashValue)
        }
    }

    private func digits(_ count: Int, _ random: inout Mutator) -> String {
        String((0..<count).map { _ in Character(String(random.next(10))) })
    }
}
