import Synchronization
import Tracing

/// The tracer installed when no spans are exported: it records nothing, but every span it starts has a W3C trace
/// context (the parent's trace id, a span id of its own), which it writes into and reads from message headers. So
/// trace ids follow an order from service to service, and into the logs, with or without an OpenTelemetry collector.
public struct PropagatingTracer: Tracer {
    public typealias Span = PropagatedSpan

    public init() {}

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> InstrumentationContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> PropagatedSpan {
        var context = context()
        let trace = context[TraceContextKey.self]?.child() ?? .newTrace()
        context[TraceContextKey.self] = trace
        return PropagatedSpan(context: context, operationName: operationName)
    }

    public func startAnySpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> InstrumentationContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> any Tracing.Span {
        startSpan(
            operationName,
            context: context(),
            ofKind: kind,
            at: instant(),
            function: function,
            file: fileID,
            line: line
        )
    }

    public func forceFlush() {}

    public func inject<Carrier, Inject: Injector>(
        _ context: InstrumentationContext,
        into carrier: inout Carrier,
        using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let trace = context[TraceContextKey.self] else { return }
        injector.inject(trace.traceparent, forKey: TraceContext.parentHeader, into: &carrier)
        if let state = trace.state { injector.inject(state, forKey: TraceContext.stateHeader, into: &carrier) }
    }

    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier,
        into context: inout InstrumentationContext,
        using extractor: Extract
    ) where Extract.Carrier == Carrier {
        guard let parent = extractor.extract(key: TraceContext.parentHeader, from: carrier),
            let trace = TraceContext(
                traceparent: parent,
                tracestate: extractor.extract(key: TraceContext.stateHeader, from: carrier)
            )
        else { return }
        context[TraceContextKey.self] = trace
    }
}

/// Where ``PropagatingTracer`` keeps a span's trace context.
enum TraceContextKey: InstrumentationContextKey {
    typealias Value = TraceContext
    static var nameOverride: String? { "crm-trace-context" }
}

/// A span of ``PropagatingTracer``: a trace context and a name, nothing recorded.
public final class PropagatedSpan: Tracing.Span {
    public let context: InstrumentationContext
    private let name: Mutex<String>

    init(context: InstrumentationContext, operationName: String) {
        self.context = context
        name = Mutex(operationName)
    }

    public var operationName: String {
        get { name.withLock { $0 } }
        set { name.withLock { $0 = newValue } }
    }

    public var isRecording: Bool { false }
    public var attributes: SpanAttributes {
        get { [:] }
        set {}
    }

    public func setStatus(_ status: SpanStatus) {}
    public func addLink(_ link: SpanLink) {}
    public func addEvent(_ event: SpanEvent) {}
    public func recordError<Instant: TracerInstant>(
        _ error: any Error,
        attributes: SpanAttributes,
        at instant: @autoclosure () -> Instant
    ) {}
    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {}
}

/// Installs the process's tracer once: the one given (an exporter's) or, without one, ``PropagatingTracer``. Later
/// calls change nothing, so every test of a process and every service in it can ask for tracing.
public enum MessageTracing {
    private static let installed = Mutex(false)

    /// Installs `tracer` (default: ``PropagatingTracer``) unless a tracer is installed already; true when this call
    /// installed it.
    @discardableResult
    public static func bootstrap(_ tracer: (any Instrument)? = nil) -> Bool {
        installed.withLock { done in
            guard !done else { return false }
            InstrumentationSystem.bootstrap(tracer ?? PropagatingTracer())
            done = true
            return true
        }
    }
}
