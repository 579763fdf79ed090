import Foundation
import Testing

@testable import CRMContract
@testable import CRMSupport

/// A bounded mutation fuzzer over every decoder a service runs on input from outside or from another service.
///
/// Seeds are the committed corpus in Tests/Fixtures/corpus (one valid message per file, named by its schema).
/// Each round damages a seed (bytes flipped, inserted, cut; keys duplicated; values swapped for huge,
/// deeply nested, mistyped or ill-encoded ones) and feeds it to the decoder. Properties: nothing traps; a
/// refusal names a field and a problem; an accepted message re-encodes and decodes to itself.
/// `CRM_FUZZ_SECONDS` (default 2) bounds the run and `CRM_FUZZ_SEED` makes it reproducible.
@Suite("Decoder fuzzing")
struct MessageFuzzTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/corpus")

    /// The decoders, by schema name.
    static let decoders: [String: @Sendable (Data) throws(MessageRejection) -> Void] = [
        OrderMessage.schema: { body throws(MessageRejection) in try roundTrip(OrderMessage.self, body) },
        CustomerMessage.schema: { body throws(MessageRejection) in try roundTrip(CustomerMessage.self, body) },
        CustomerLifecycleEvent.schema: { body throws(MessageRejection) in
            try roundTrip(CustomerLifecycleEvent.self, body)
        },
        ComplaintMessage.schema: { body throws(MessageRejection) in try roundTrip(ComplaintMessage.self, body) },
        ComplaintStatusMessage.schema: { body throws(MessageRejection) in
            try roundTrip(ComplaintStatusMessage.self, body)
        },
        AlertFeedback.schema: { body throws(MessageRejection) in try roundTrip(AlertFeedback.self, body) },
        OrderAcceptedEvent.schema: { body throws(MessageRejection) in try roundTrip(OrderAcceptedEvent.self, body) },
        OrderAcceptedEvents.schema: { body throws(MessageRejection) in try roundTrip(OrderAcceptedEvents.self, body) },
        CustomerScoredEvent.schema: { body throws(MessageRejection) in try roundTrip(CustomerScoredEvent.self, body) },
        ComplaintSignalEvent.schema: { body throws(MessageRejection) in try roundTrip(ComplaintSignalEvent.self, body)
        },
        RetentionAlert.schema: { body throws(MessageRejection) in try roundTrip(RetentionAlert.self, body) },
        RoutedComplaint.schema: { body throws(MessageRejection) in try roundTrip(RoutedComplaint.self, body) },
    ]

    /// Decodes; an accepted message must survive encoding and decoding unchanged.
    static func roundTrip<M: SchemaMessage>(_ type: M.Type, _ body: Data) throws(MessageRejection) {
        let message = try M.decode(body: body)
        let again = try M.decode(body: try message.encodedBody())
        if again != message { throw MessageRejection(.invalidValue, field: "fuzz", "ROUND TRIP CHANGED THE MESSAGE") }
    }

    static func seeds() throws -> [(schema: String, name: String, body: [UInt8])] {
        let files = try FileManager.default.contentsOfDirectory(at: corpus, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }.sorted { $0.path < $1.path }
        return try files.map { file in
            let body = try Data(contentsOf: file)
            let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            return (try #require(object["schema"] as? String), file.lastPathComponent, [UInt8](body))
        }
    }

    @Test("every corpus seed is accepted as it stands")
    func seedsAreValid() throws {
        let seeds = try Self.seeds()
        #expect(Set(seeds.map(\.schema)) == Set(Self.decoders.keys))
        for seed in seeds {
            let decode = try #require(Self.decoders[seed.schema])
            #expect(throws: Never.self, "\(seed.name)") { try decode(Data(seed.body)) }
        }
    }

    @Test("damaged messages never trap; each refusal names a field; accepted ones round-trip")
    func fuzz() throws {
        let environment = ProcessInfo.processInfo.environment
        let seconds = Double(environment["CRM_FUZZ_SECONDS"] ?? "") ?? 2
        var random = Mutator(seed: UInt64(environment["CRM_FUZZ_SEED"] ?? "") ?? 20_261_123)
        let seeds = try Self.seeds()
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var rounds = 0
        var accepted = 0
        while ContinuousClock.now < deadline || rounds < 2_000 {
            for seed in seeds {
                let body = random.mutate(seed.body)
                let decode = try #require(Self.decoders[seed.schema])
                do throws(MessageRejection) {
                    try decode(Data(body))
                    accepted += 1
                } catch {
                    #expect(
                        !error.field.isEmpty && !error.problem.isEmpty && error.field != "fuzz",
                        "\(seed.name): \(error.reason) for \(String(decoding: body, as: UTF8.self).prefix(300))"
                    )
                    if error.problem == "not valid JSON (refused by JSONDecoder)",
                        let path = environment["CRM_FUZZ_FAILURES"]
                    {
                        try? Data(body).write(to: URL(fileURLWithPath: path + "/\(rounds).json"))
                    }
                    #expect(
                        error.problem != "not valid JSON (refused by JSONDecoder)",
                        "the scanner passed what JSONDecoder refused: \(String(decoding: body, as: UTF8.self).prefix(300))"
                    )
                }
                rounds += 1
            }
        }
        // Some damage is harmless (a changed digit); a fuzzer that never produced a valid message is broken.
        #expect(accepted > 0)
        #expect(rounds >= 2_000)
    }
}

/// Deterministic damage for the fuzzer.
struct Mutator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return bound <= 1 ? 0 : Int((state >> 33) % UInt64(bound))
    }

    static let alphabet: [UInt8] =
        Array(#"{}[]":,\0123456789eE.-+tfnul "#.utf8) + [
            0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xA9, 0xE4, 0xF0, 0xFF,
        ]

    static let fragments: [String] = [
        #""schema":"order.v1","#, #""amount":"-1","#, #""amount":1e400,"#, #""order_id":"","#,
        #""x":"# + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + ",",
        #""x":""# + String(repeating: "é", count: 5_000) + #"","#, #""occurred_at":"2026-02-30T25:61:00Z","#,
        #""items":[{"sku":"a","quantity":-3}],"#, #""customer":{"type":"robot"},"#, #""\u0000":1,"#,
        #""currency":"usd","#, #""status":"maybe","#, #""satisfaction":9,"#, #""order_ids":[],"#,
        #""customer_id":"' OR 1=1 --","#, #""p_alive":1.5,"#, #""\ud800":"lone surrogate","#,
    ]

    /// One to four kinds of damage.
    mutating func mutate(_ seed: [UInt8]) -> [UInt8] {
        var body = seed
        for _ in 0...next(4) {
            guard !body.isEmpty else { break }
            switch next(7) {
            case 0: body[next(body.count)] = Self.alphabet[next(Self.alphabet.count)]
            case 1: body.insert(Self.alphabet[next(Self.alphabet.count)], at: next(body.count + 1))
            case 2: body.removeSubrange(next(body.count)..<body.count)
            case 3:
                let start = next(body.count)
                body.removeSubrange(start..<min(body.count, start + 1 + next(12)))
            case 4:
                // A member right after the opening brace: duplicates and intruders.
                let fragment = Array(Self.fragments[next(Self.fragments.count)].utf8)
                if let brace = body.firstIndex(of: UInt8(ascii: "{")) {
                    body.insert(contentsOf: fragment, at: brace + 1)
                }
            case 5:
                // Duplicate a slice of the body somewhere else (repeated keys, broken structure).
                let start = next(body.count)
                let slice = Array(body[start..<min(body.count, start + 1 + next(40))])
                body.insert(contentsOf: slice, at: next(body.count + 1))
            default:
                // Wrap the whole body in arrays or objects.
                let depth = 1 + next(40)
                body =
                    Array(String(repeating: "[", count: depth).utf8) + body
                    + Array(String(repeating: "]", count: depth).utf8)
            }
        }
        return body
    }
}
