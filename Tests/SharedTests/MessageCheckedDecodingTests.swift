import Foundation
import Testing

@testable import CRMContract
@testable import CRMSupport

/// Intake's `order.v1` decoder must reach the same verdict as `JSONDecoder` on every body: the same order and
/// canonical text, or the same rejection code, field and reason.
@Suite("Checked order decoding")
struct MessageCheckedDecodingTests {
    static func expectSameVerdict(_ body: Data, _ comment: String = "") {
        let reference = CheckedDecoding.referenceVerdict(body)
        let checked = CheckedDecoding.verdict(body)
        #expect(checked == reference, "\(comment) \(String(decoding: body, as: UTF8.self).prefix(300))")
    }

    static let item = #"{"sku": "SKU-1", "quantity": 2, "unit_price": "64.95", "category": "books"}"#

    @Test(
        "edge cases of JSON and of the fields",
        arguments: [
            // Member names written with escapes or in another Unicode form still name the member.
            #"{"schema":"order.v1","order\u005fid":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD"}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD","caf\u00e9":1,"cafe\u0301x":2}"#,
            #"{"schema":"order.v1","order_id":"A-\u00e9\ud83d\ude00\n","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD"}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD","customer":{"name":"e\u0301 \"q\" \/ \\ \t"}}"#,
            // Whitespace everywhere JSON allows it.
            " \r\n\t{ \"schema\" : \"order.v1\" , \"order_id\" : \"A-1\" , \"customer_id\" : \"C\" , \"occurred_at\" : "
                + "\"2026-01-01T00:00:00Z\" , \"amount\" : 1.50 , \"currency\" : \"USD\" , \"items\" : [ { \"sku\" : \"S\" , "
                + "\"quantity\" : 2.0E0 } , { \"sku\" : \"T\" , \"quantity\" : 1 } ] } \n",
            // Numbers in every spelling JSON has.
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":-0,"currency":"USD"}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":1e2,"currency":"USD","cost":12.3456e-2}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD","items":[{"sku":"S","quantity":1E+1}]}"#,
            // Wrong types and nulls at every depth.
            #"{"schema":"order.v1","order_id":1,"customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD"}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":null,"occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD"}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":true,"currency":"USD"}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD","items":{}}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD","items":[null]}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD","items":[[]]}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD","items":[{"sku":"S","quantity":"2"}]}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD","items":[{"sku":"S","quantity":null}]}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD","items":[{"sku":"S","quantity":1},{"quantity":1}]}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD","items":[{"sku":"S","quantity":1,"unit_price":[1]}]}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD","customer":[]}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD","customer":{"type":5}}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD","customer":{"email":false}}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD","kind":null,"channel":null,"cost":null}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD","kind":["refund"]}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":{},"amount":"1","currency":"USD"}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","amount":"1","currency":"USD","channel":7}"#,
            // Absences, and what is left when the schema is the only thing right.
            #"{"schema":"order.v1"}"#,
            #"{"schema":"order.v1","order_id":"A-1","customer_id":"C","occurred_at":"2026-01-01T00:00:00Z","currency":"USD"}"#,
        ]
    )
    func edgeCases(body: String) {
        Self.expectSameVerdict(Data(body.utf8))
    }

    @Test("the fixtures and the committed corpus")
    func fixtures() throws {
        for seed in try MessageFuzzTests.seeds() where seed.schema == OrderMessage.schema {
            Self.expectSameVerdict(Data(seed.body), seed.name)
        }
        Self.expectSameVerdict(Fixture.order())
        Self.expectSameVerdict(Fixture.order(["items": "[\(Self.item), \(Self.item)]"]))
        Self.expectSameVerdict(Fixture.order(["kind": #""refund""#, "original_order_id": #""A-1000""#]))
    }

    @Test("the CDNOW sample as load-orders publishes it")
    func cdnow() throws {
        let sample = MessageFuzzTests.corpus.deletingLastPathComponent().appendingPathComponent(
            "cdnow/CDNOW_sample.txt"
        )
        let lines = try String(contentsOf: sample, encoding: .utf8).split(whereSeparator: \.isNewline)
        for (number, line) in lines.enumerated() {
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count == 5 else { continue }
            let date = fields[2]
            let body =
                #"{"amount":"\#(fields[4])","channel":"cdnow","currency":"USD","customer_id":"\#(fields[0])","#
                + #""kind":"purchase","occurred_at":"\#(date.prefix(4))-\#(date.dropFirst(4).prefix(2))-"#
                + #"\#(date.suffix(2))T00:00:00Z","order_id":"cdnow-\#(fields[0])-\#(date)-\#(number + 1)","#
                + #""schema":"order.v1"}"#
            Self.expectSameVerdict(Data(body.utf8))
        }
    }

    @Test("damaged order bodies: the same verdict as JSONDecoder's, every time")
    func mutations() throws {
        let environment = ProcessInfo.processInfo.environment
        let seconds = Double(environment["CRM_FUZZ_SECONDS"] ?? "") ?? 2
        var random = Mutator(seed: UInt64(environment["CRM_FUZZ_SEED"] ?? "") ?? 20_261_124)
        let seeds =
            try MessageFuzzTests.seeds().filter { $0.schema == OrderMessage.schema }.map(\.body)
            + [[UInt8](Fixture.order()), [UInt8](Fixture.order(["items": "[\(Self.item), \(Self.item)]"]))]
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var rounds = 0
        var accepted = 0
        while ContinuousClock.now < deadline || rounds < 2_000 {
            for seed in seeds {
                let body = Data(random.mutate(seed))
                let reference = CheckedDecoding.referenceVerdict(body)
                if case .accepted = reference { accepted += 1 }
                let checked = CheckedDecoding.verdict(body)
                guard checked == reference else {
                    Issue.record(
                        "\(checked) but JSONDecoder: \(reference) for \(String(decoding: body, as: UTF8.self).prefix(300))"
                    )
                    return
                }
                rounds += 1
            }
        }
        #expect(accepted > 0)
    }
}
