import CRMAMQP
import CRMPostgres
import CRMSupport
import Foundation
import Testing

@testable import CRMRuntime

@Suite("W3C trace context")
struct TraceContextTests {
    @Test func aValidTraceparentParsesAndPrintsBackTheSame() throws {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let trace = try #require(TraceContext(traceparent: header, tracestate: " vendor=1 "))
        #expect(trace.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(trace.spanID == "00f067aa0ba902b7")
        #expect(trace.flags == 1)
        #expect(trace.state == "vendor=1")
        #expect(trace.traceparent == header)
        // A later version may append fields after a dash; the parts we know still parse.
        #expect(TraceContext(traceparent: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra") != nil)
    }

    @Test(arguments: [
        "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
    ])
    func whatTheRecommendationSaysToIgnoreIsIgnored(_ header: String) {
        #expect(TraceContext(traceparent: header) == nil)
    }

    @Test func aChildKeepsTheTraceAndGetsASpanOfItsOwn() throws {
        let root = TraceContext.newTrace()
        let child = root.child()
        #expect(child.traceID == root.traceID && child.spanID != root.spanID && child.flags == root.flags)
        #expect(root.traceID.count == 32 && root.spanID.count == 16)
        #expect(TraceContext(traceparent: child.traceparent) == child)
    }

    @Test func theInstalledTracerCarriesAMessagesTraceIntoWhatItsBatchPublishes() async throws {
        MessageTracing.bootstrap()
        let trace = TraceContext.newTrace()
        let received = InboundMessage(
            body: Data("{}".utf8),
            headers: ["TraceParent": .bytes(Array(trace.traceparent.utf8)), "tracestate": .string("a=1")]
        )
        #expect(MessageTracing.trace(of: received) == trace.withState("a=1"))
        let published = await MessageTracing.withBatchSpan(queue: "q", messages: [received]) {
            #expect(TraceContext.current?.traceID == trace.traceID)
            return MessageTracing.stamped([
                OutboundMessage(exchange: "x", routingKey: "k", body: Data()),
                OutboundMessage(
                    exchange: "x",
                    routingKey: "k",
                    body: Data(),
                    headers: ["traceparent": .string("00-11111111111111111111111111111111-2222222222222222-01")]
                ),
            ])
        }
        let first = try #require(
            published[0].headers["traceparent"]?.stringValue.flatMap { TraceContext(traceparent: $0) }
        )
        #expect(first.traceID == trace.traceID && first.spanID != trace.spanID)
        #expect(published[0].headers["tracestate"]?.stringValue == "a=1")
        // A message with a trace of its own keeps it.
        #expect(
            published[1].headers["traceparent"]?.stringValue
                == "00-11111111111111111111111111111111-2222222222222222-01"
        )
        // Outside a span nothing is added.
        #expect(
            MessageTracing.stamped([OutboundMessage(exchange: "x", routingKey: "k", body: Data())])[0].headers.isEmpty
        )
    }
}

extension TraceContext {
    fileprivate func withState(_ state: String) -> TraceContext {
        var copy = self
        copy.state = state
        return copy
    }
}

@Suite("Metrics catalogue and process metrics")
struct MetricCatalogueTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Every metric a source file creates (`label: "crm_..."`, or a label chosen between two literals) has HELP text.
    @Test func everyMetricInTheSourcesHasHelpText() throws {
        var names = Set<String>()
        for folder in ["Shared", "Services"] {
            let base = Self.root.appendingPathComponent(folder)
            guard let files = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else {
                continue
            }
            for case let file as URL in files where file.pathExtension == "swift" {
                let text = try String(contentsOf: file, encoding: .utf8)
                for match in text.matches(of: /(?:label: |\? |: )"(crm_[a-z0-9_]+)"/) {
                    let name = String(match.output.1)
                    // Table names (crm_outbox, crm_instances, ...) are not metrics.
                    guard
                        name.hasSuffix("_total") || name.hasSuffix("_seconds") || text.contains("label: \"\(name)\"")
                            || text.contains("? \"\(name)\"")
                    else { continue }
                    names.insert(name)
                }
            }
        }
        #expect(names.count >= 40)
        let missing = names.filter { MetricCatalogue.help[$0] == nil }
        #expect(missing.isEmpty, "metrics without HELP text in MetricCatalogue: \(missing.sorted())")
    }

    @Test func procSelfStatIsReadAfterTheCommandName() throws {
        // The command name holds a space and a parenthesis; utime 250 and stime 50 ticks, start 1000 ticks after boot.
        let line =
            "4242 (crm (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 1000 104857600 2560 "
            + "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
        let stat = try #require(ProcessMetrics.parse(stat: line, bootTime: 1_700_000_000, ticks: 100, pageSize: 4096))
        #expect(stat.cpuSeconds == 3)
        #expect(stat.virtualBytes == 104_857_600)
        #expect(stat.residentBytes == 2560 * 4096)
        #expect(stat.startTime == 1_700_000_010)
        #expect(ProcessMetrics.parse(stat: "garbage", bootTime: 0, ticks: 100, pageSize: 4096) == nil)
    }

    @Test func theRenderedMetricsHaveHelpForEveryFamily() {
        Observability.recordBuildInfo(service: "crm-test")
        let text = Observability.renderMetrics()
        let types = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(types.contains("process_resident_memory_bytes") && types.contains("crm_build_info"))
        for name in types { #expect(text.contains("# HELP \(name) "), "\(name)") }
    }
}

@Suite("Secrets from files and the database URL")
struct SecretSettingsTests {
    @Test func anUnsetVariableIsReadFromItsFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID())")
        try Data("s3cret-pass\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let settings = Settings([
            "CRM_DATABASE_PASSWORD_FILE": file.path, "CRM_AMQP_URL": "x", "CRM_AMQP_URL_FILE": file.path,
        ])
        #expect(settings.string("CRM_DATABASE_PASSWORD") == "s3cret-pass")
        // The variable itself wins over its file.
        #expect(settings.string("CRM_AMQP_URL") == "x")
        let missing = Settings(["CRM_DATABASE_URL_FILE": "/nonexistent/secret"])
        #expect(
            throws: SettingsError(
                variable: "CRM_DATABASE_URL_FILE",
                problem: "cannot read the file /nonexistent/secret"
            )
        ) {
            try missing.required("CRM_DATABASE_URL")
        }
    }

    @Test(arguments: ["", "not a url", "postgres//u:p@h/db", "host=db dbname=crm", "postgres://h:5432/crm"])
    func aMalformedOrUserlessDatabaseURLIsAConfigurationError(_ url: String) {
        #expect(PostgresConnectionString.problem(in: url) != nil)
        #expect(throws: SettingsError.self) { try Settings(["CRM_DATABASE_URL": url]).databaseURL() }
    }

    @Test func aPasswordIsFilledIntoAURLThatHasNone() throws {
        #expect(PostgresConnectionString.problem(in: "postgres://crm_intake@db:5432/crm") == nil)
        #expect(
            PostgresConnectionString.filling(password: "p@ss/word", into: "postgres://crm_intake@db:5432/crm")
                == "postgres://crm_intake:p%40ss%2Fword@db:5432/crm"
        )
        #expect(
            PostgresConnectionString.filling(password: "x", into: "postgres://u:kept@db/crm")
                == "postgres://u:kept@db/crm"
        )
        #expect(
            PostgresConnectionString.filling(password: "it's", into: "host=db user=u dbname=crm")
                == #"host=db user=u dbname=crm password='it\'s'"#
        )
        let settings = Settings(["CRM_DATABASE_URL": "postgres://u@db/crm", "CRM_DATABASE_PASSWORD": "pw"])
        #expect(try settings.databaseURL() == "postgres://u:pw@db/crm")
        let amqp = try AMQPSettings.from(
            Settings(["CRM_AMQP_URL": "amqp://crm_intake@rabbit:5672/crm", "CRM_AMQP_PASSWORD": "pw"])
        )
        #expect(amqp.password == "pw")
    }
}
