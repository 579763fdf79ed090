import Tracing

/// A W3C trace context (https://www.w3.org/TR/trace-context/): what a message's `traceparent` and `tracestate`
/// headers carry, and what a log line's `trace_id` and `span_id` name.
public struct TraceContext: Sendable, Hashable {
    /// 32 lowercase hexadecimal digits, not all zero.
    public var traceID: String
    /// 16 lowercase hexadecimal digits, not all zero: the span that published (or is processing) the message.
    public var spanID: String
    /// The trace flags; bit 0 is `sampled`.
    public var flags: UInt8
    /// The vendors' `tracestate` list, passed on as received.
    public var state: String?

    public init(traceID: String, spanID: String, flags: UInt8 = 1, state: String? = nil) {
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
        self.state = state
    }

    /// Parses a `traceparent` header; nil for anything the W3C recommendation says to ignore (a version of `ff`,
    /// uppercase digits, all-zero ids, a version-00 header with more after it).
    public init?(traceparent: String, tracestate: String? = nil) {
        let bytes = Array(traceparent.utf8)
        guard bytes.count >= 55, bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"),
            bytes[52] == UInt8(ascii: "-")
        else { return nil }
        func hex(_ range: Range<Int>) -> String? {
            let slice = bytes[range]
            guard slice.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
            return String(decoding: slice, as: UTF8.self)
        }
        guard let version = hex(0..<2), version != "ff", let traceID = hex(3..<35), let spanID = hex(36..<52),
            let flags = hex(53..<55).flatMap({ UInt8($0, radix: 16) })
        else { return nil }
        // Version 00 is exactly 55 characters; a later version may append fields after a dash.
        if version == "00" ? bytes.count != 55 : (bytes.count > 55 && bytes[55] != UInt8(ascii: "-")) { return nil }
        guard traceID.contains(where: { $0 != "0" }), spanID.contains(where: { $0 != "0" }) else { return nil }
        let state = tracestate?.trimmingSpaces
        self.init(traceID: traceID, spanID: spanID, flags: flags, state: state?.isEmpty == false ? state : nil)
    }

    /// The `traceparent` header value (version 00).
    public var traceparent: String {
        let flagDigits = String(flags, radix: 16)
        return "00-\(traceID)-\(spanID)-\(flagDigits.count == 1 ? "0" + flagDigits : flagDigits)"
    }

    /// A child: the same trace, flags and state, a new span id.
    public func child() -> TraceContext {
        TraceContext(traceID: traceID, spanID: Self.randomHex(bytes: 8), flags: flags, state: state)
    }

    /// The root of a new trace, sampled.
    public static func newTrace() -> TraceContext {
        TraceContext(traceID: randomHex(bytes: 16), spanID: randomHex(bytes: 8))
    }

    static func randomHex(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        while true {
            var text = ""
            text.reserveCapacity(count * 2)
            var nonZero = false
            for _ in 0..<count {
                let byte = UInt8.random(in: 0...255, using: &generator)
                nonZero = nonZero || byte != 0
                text += byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
            }
            if nonZero { return text }
        }
    }

    /// The header names of the W3C recommendation.
    public static let parentHeader = "traceparent"
    public static let stateHeader = "tracestate"
}

extension String {
    fileprivate var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return String(text)
    }
}

extension TraceContext {
    /// The trace context of the instrumentation context `context`, as the installed tracer writes it into headers:
    /// the same answer whether spans are exported (OpenTelemetry) or only propagated.
    public static func of(_ context: InstrumentationContext) -> TraceContext? {
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: StringDictionaryInjector())
        guard let parent = carrier[parentHeader] else { return nil }
        return TraceContext(traceparent: parent, tracestate: carrier[stateHeader])
    }

    /// The trace context of the task's current span, if any.
    public static var current: TraceContext? {
        guard let context = InstrumentationContext.current else { return nil }
        return of(context)
    }
}

/// Writes propagation fields into a `[String: String]`.
struct StringDictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}

/// Writes propagation fields into AMQP headers, as strings.
public struct AMQPHeaderInjector: Injector {
    public init() {}

    public func inject(_ value: String, forKey key: String, into carrier: inout [String: AMQPHeaderValue]) {
        carrier[key] = .string(value)
    }
}

/// Reads propagation fields from AMQP headers (strings, or bytes as some clients send them); names are matched
/// without regard to case, as HTTP header names are.
public struct AMQPHeaderExtractor: Extractor {
    public init() {}

    public func extract(key: String, from carrier: [String: AMQPHeaderValue]) -> String? {
        if let value = carrier[key] { return value.stringValue }
        let lowered = key.lowercased()
        return carrier.first { $0.key.lowercased() == lowered }?.value.stringValue
    }
}
