import CRMAMQP
import CRMSupport
import Logging
import OTel
import ServiceLifecycle

/// OTLP export of the spans, only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is
/// set: then swift-otel's tracer (OTLP over HTTP with protobuf, batched; the other `OTEL_*` variables apply) replaces
/// the propagating one, and its exporter runs as one more service of the process. Unset, nothing is exported and
/// trace contexts are only propagated.
enum TraceExport {
    static func start(service: String, settings: Settings, logger: Logger) throws -> (any Service)? {
        guard
            settings.string("OTEL_EXPORTER_OTLP_ENDPOINT") != nil
                || settings.string("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != nil
        else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = service
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.diagnosticLogger = .custom(logger)
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        MessageTracing.bootstrap(backend.factory)
        return backend.service
    }
}
