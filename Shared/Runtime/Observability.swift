import CRMAMQP
import CRMSupport
import Logging
import Metrics
import Prometheus
import Synchronization

/// Process-wide logging and metrics, bootstrapped once.
public enum Observability {
    private struct State {
        var registry: PrometheusCollectorRegistry
        var process: ProcessMetrics
    }

    private static let state = Mutex<State?>(nil)

    /// The registry `/metrics` renders. Bootstraps swift-metrics with it on first use.
    public static var registry: PrometheusCollectorRegistry {
        installed.registry
    }

    private static var installed: State {
        state.withLock { state in
            if let state { return state }
            let fresh = PrometheusCollectorRegistry()
            let factory = HelpfulMetricsFactory(
                registry: fresh,
                durationBuckets: [
                    .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                    .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
                    .seconds(30), .seconds(120),
                ]
            )
            MetricsSystem.bootstrap(factory)
            let installed = State(registry: fresh, process: ProcessMetrics(registry: fresh))
            state = installed
            return installed
        }
    }

    /// JSON logs at `level` (from `CRM_LOG_LEVEL`), each line of a traced task with its `trace_id` and `span_id`,
    /// and Prometheus metrics; call once at start-up. `installTracer` runs once logging is up and may install a
    /// tracer (an exporter's); without one the propagating tracer is installed.
    public static func bootstrap(logLevel: Logger.Level) {
        bootstrap(logLevel: logLevel, installTracer: {})
    }

    /// ``bootstrap(logLevel:)``, with `installTracer` run once logging is up: it may install a tracer (an exporter's).
    public static func bootstrap(logLevel: Logger.Level, installTracer: () throws -> Void) rethrows {
        LoggingSystem.bootstrap(
            { label, provider in
                var handler = JSONLogHandler(label: label, level: logLevel)
                handler.metadataProvider = provider
                return handler
            },
            metadataProvider: .traceContext
        )
        try installTracer()
        MessageTracing.bootstrap()
        _ = registry
    }

    /// `crm_build_info{service, version} 1`, once per process.
    public static func recordBuildInfo(service: String) {
        registry.makeGauge(
            descriptor: HelpfulMetricsFactory.descriptor("crm_build_info"),
            labels: [("service", service), ("version", CRMVersion.current)]
        ).set(to: 1.0)
    }

    /// The metrics in Prometheus text format, the process's figures read just now.
    public static func renderMetrics() -> String {
        let state = installed
        state.process.update()
        var buffer: [UInt8] = []
        state.registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}

extension Logger.MetadataProvider {
    /// `trace_id` and `span_id` of the task's current span (W3C, as its messages carry them), on every log line
    /// written inside a batch's or a schedule's span.
    public static let traceContext = Logger.MetadataProvider {
        guard let trace = TraceContext.current else { return [:] }
        return ["trace_id": .string(trace.traceID), "span_id": .string(trace.spanID)]
    }
}
