import Foundation
import Testing

@testable import CRMContract

@Suite("Identifiers, labels and currency codes")
struct MessageIdentifierTests {
    @Test("accepts printable identifiers in any script", arguments: ["A-1001", "订单-1", "C 42", "👩", "x"])
    func accepts(text: String) throws {
        #expect(try Identifier(text).rawValue == text)
    }

    @Test(
        "refuses empty, overlong, unprintable and padded identifiers",
        arguments: [
            ("", "empty"),
            (String(repeating: "a", count: 129), "longer than 128 characters"),
            ("A\u{7}", "contains a control character"),
            ("A\n1", "contains a control character"),
            ("A\u{202E}1", "contains a control character"),
            ("A\u{2028}1", "contains a control character"),
            (" A-1", "has leading or trailing white space"),
            ("A-1\u{3000}", "has leading or trailing white space"),
            // Invisible: "A-1" to a person, another order to the database.
            ("A\u{200B}-1", "contains an invisible character (U+200B)"),
            ("A-\u{200D}1", "contains an invisible character (U+200D)"),
            ("A-1\u{FE0F}", "contains an invisible character (U+FE0F)"),
            ("A-\u{AD}1", "contains an invisible character (U+AD)"),
            ("A\u{2060}-1", "contains an invisible character (U+2060)"),
            ("A\u{3164}1", "contains an invisible character (U+3164)"),
            ("👩‍💻", "contains an invisible character (U+200D)"),
        ]
    )
    func refuses(text: String, problem: String) {
        #expect(throws: MessageRejection(.invalidValue, field: "", problem)) { try Identifier(text) }
    }

    @Test("counts Unicode scalars, not characters")
    func countsScalars() throws {
        #expect(try Identifier(String(repeating: "a", count: 128)).rawValue.count == 128)
        // 65 characters, 130 scalars: "e" plus a combining acute accent each.
        let decomposed = String(repeating: "e\u{301}", count: 65)
        #expect(decomposed.count == 65)
        #expect(throws: MessageRejection(.invalidValue, field: "", "longer than 128 characters")) {
            try Identifier(decomposed)
        }
    }

    @Test("compares scalar by scalar, as PostgreSQL does, not by canonical equivalence")
    func scalarEquality() throws {
        let composed = try Identifier("caf\u{E9}")
        let decomposed = try Identifier("cafe\u{301}")
        #expect(composed.rawValue == decomposed.rawValue)  // Swift's String says equal...
        #expect(composed != decomposed)  // ...the database would store two rows.
        #expect(Set([composed, decomposed]).count == 2)
        #expect(try Identifier("A-1") < Identifier("a-1"))
    }

    @Test("names the identifier field in a message")
    func inMessage() {
        #expect(
            reason(Fixture.order(["order_id": "\"\(String(repeating: "x", count: 129))\""]))
                == "order_id: longer than 128 characters"
        )
        #expect(reason(Fixture.order(["order_id": #""""#])) == "order_id: empty")
        #expect(reason(Fixture.order(["order_id": "42"])) == "order_id: expected a string")
        #expect(reason(Fixture.order(["customer_id": #""C-42\t""#])) == "customer_id: contains a control character")
        #expect(
            reason(Fixture.order(["channel": "\"\(String(repeating: "w", count: 129))\""]))
                == "channel: longer than 128 characters"
        )
        #expect(
            reason(Fixture.order(["items": #"[{"sku": " SKU-1", "quantity": 1}]"#]))
                == "items[0].sku: has leading or trailing white space"
        )
    }

    @Test(
        "accepts active ISO 4217 codes",
        arguments: ["CNY", "EUR", "USD", "JPY", "KWD", "XCG", "ZWG", "SLE", "CHE", "XAU"]
    )
    func acceptsCurrency(code: String) throws {
        #expect(try CurrencyCode(code).code == code)
    }

    @Test(
        "refuses unknown, withdrawn, reserved and lower-case codes",
        arguments: [
            ("XYZ", #"unknown ISO 4217 code "XYZ""#),
            ("HRK", #"unknown ISO 4217 code "HRK""#),
            ("ZWL", #"unknown ISO 4217 code "ZWL""#),
            ("XTS", #"unknown ISO 4217 code "XTS""#),
            ("XXX", #"unknown ISO 4217 code "XXX""#),
            ("cny", #"unknown ISO 4217 code "cny" (codes are upper case)"#),
            ("US", #"unknown ISO 4217 code "US""#),
            ("", #"unknown ISO 4217 code """#),
            ("\u{1}X\"", #"unknown ISO 4217 code "\u{1}X\"""#),
        ]
    )
    func refusesCurrency(code: String, problem: String) {
        #expect(throws: MessageRejection(.invalidValue, field: "", problem)) { try CurrencyCode(code) }
    }

    @Test("the code list is three upper-case letters each, about 180 of them")
    func codeList() {
        #expect(CurrencyCode.active.allSatisfy { $0.utf8.count == 3 && $0.allSatisfy { $0.isASCII && $0.isUppercase } })
        #expect((170...190).contains(CurrencyCode.active.count))
    }

    @Test("quotes values from a message shortened and escaped")
    func quoting() {
        let long = String(repeating: "X", count: 100)
        #expect(
            reason(Fixture.order(["currency": "\"\(long)\""]))
                == "currency: unknown ISO 4217 code \"\(String(repeating: "X", count: 40))…\""
        )
        #expect(reason(Fixture.order(["schema": #""order.v1\u0007""#])) == #"schema: unknown "order.v1\u{7}""#)
    }
}
