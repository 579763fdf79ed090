import CRMSupport
import Logging
import Metrics
import Prometheus
import Synchronization

/// Process-wide logging and metrics, bootstrapped once.
public enum Observability {
    private static let state = Mutex<PrometheusCollectorRegistry?>(nil)

    /// The registry `/metrics` renders. Bootstraps swift-metrics with it on first use.
    public static var registry: PrometheusCollectorRegistry {
        state.withLock { registry in
            if let registry { return registry }
            let fresh = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: fresh)
            factory.defaultDurationHistogramBuckets = [
                .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30),
                .seconds(120),
            ]
            MetricsSystem.bootstrap(factory)
            registry = fresh
            return fresh
        }
    }

    /// JSON logs at `level` (from `CRM_LOG_LEVEL`) and Prometheus metrics; call once at start-up.
    public static func bootstrap(logLevel: Logger.Level) {
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: logLevel) }
        _ = registry
    }

    /// The metrics in Prometheus text format.
    public static func renderMetrics() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
