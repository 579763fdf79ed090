import Foundation
import Tracing

extension MessageTracing {
    /// The context a received message was published in: its `traceparent` and `tracestate`, read by the installed
    /// tracer (empty when it carries none, or one the recommendation says to ignore).
    public static func context(of message: InboundMessage) -> InstrumentationContext {
        var context = InstrumentationContext.topLevel
        InstrumentationSystem.instrument.extract(message.headers, into: &context, using: AMQPHeaderExtractor())
        return context
    }

    /// The trace context a received message carries, if a valid one.
    public static func trace(of message: InboundMessage) -> TraceContext? {
        guard let parent = AMQPHeaderExtractor().extract(key: TraceContext.parentHeader, from: message.headers) else {
            return nil
        }
        return TraceContext(
            traceparent: parent,
            tracestate: AMQPHeaderExtractor().extract(key: TraceContext.stateHeader, from: message.headers)
        )
    }

    /// The messages with the current span's `traceparent` and `tracestate` added where they carry none: a message
    /// written inside a batch's span continues the trace of the messages that caused it.
    public static func stamped(_ messages: [OutboundMessage]) -> [OutboundMessage] {
        guard let context = InstrumentationContext.current else { return messages }
        var fields: [String: AMQPHeaderValue] = [:]
        InstrumentationSystem.instrument.inject(context, into: &fields, using: AMQPHeaderInjector())
        guard !fields.isEmpty else { return messages }
        return messages.map { message in
            guard message.headers[TraceContext.parentHeader] == nil else { return message }
            var message = message
            message.headers.merge(fields) { own, _ in own }
            return message
        }
    }

    /// Runs `operation` inside a consumer span for a batch taken from `queue`: the span continues the trace of the
    /// batch's first message that carries one (or the current span's), and links every message's context, so a
    /// tracing backend shows each message's trace reaching the batch that processed it. Whatever the operation
    /// publishes or writes to an outbox carries the span's context.
    public static func withBatchSpan<Result: Sendable>(
        queue: String,
        messages: [InboundMessage],
        isolation: isolated (any Actor)? = #isolation,
        _ operation: () async throws -> Result
    ) async rethrows -> Result {
        let contexts = messages.map(context(of:)).filter { !$0.isEmpty }
        let parent = contexts.first ?? InstrumentationContext.current ?? .topLevel
        let span = startSpan("\(queue) process", context: parent, ofKind: .consumer)
        span.attributes["messaging.system"] = "rabbitmq"
        span.attributes["messaging.operation.type"] = "process"
        span.attributes["messaging.destination.name"] = queue
        span.attributes["messaging.batch.message_count"] = messages.count
        for context in contexts { span.addLink(SpanLink(context: context, attributes: [:])) }
        defer { span.end() }
        do {
            return try await InstrumentationContext.withValue(span.context) { try await operation() }
        } catch {
            span.recordError(error)
            throw error
        }
    }

    /// Runs `operation` in a span of its own, a new trace unless a span is current: a schedule's work (a full
    /// rescoring, a sweep) gets a trace id its events and log lines share.
    public static func withSpan<Result: Sendable>(
        _ name: String,
        isolation: isolated (any Actor)? = #isolation,
        _ operation: () async throws -> Result
    ) async rethrows -> Result {
        let span = startSpan(name, context: InstrumentationContext.current ?? .topLevel, ofKind: .internal)
        defer { span.end() }
        do {
            return try await InstrumentationContext.withValue(span.context) { try await operation() }
        } catch {
            span.recordError(error)
            throw error
        }
    }
}
