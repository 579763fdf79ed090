import CRMAMQP
import CRMContract
import CRMSupport
import Foundation
import TestSupport
import Testing

extension SystemTests {
    /// Every metric a Grafana panel or a Prometheus rule in deploy/ queries is one the services export.
    @Suite("Dashboard metrics", .serialized)
    struct DashboardMetricsTests {
        static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()

        /// The `crm_*` names queried under deploy/grafana and deploy/prometheus, without histogram suffixes.
        static func queried() throws -> Set<String> {
            var names = Set<String>()
            for folder in ["deploy/grafana", "deploy/prometheus"] {
                let base = root.appendingPathComponent(folder)
                guard let files = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else {
                    continue
                }
                for case let file as URL in files where ["json", "yml", "yaml"].contains(file.pathExtension) {
                    let text = try String(contentsOf: file, encoding: .utf8)
                    let regex = try Regex(#"crm_[a-z0-9_]+"#)
                    for match in text.matches(of: regex) {
                        var name = String(text[match.range])
                        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
                            name.removeLast(suffix.count)
                        }
                        names.insert(name)
                    }
                }
            }
            return names
        }

        @Test func everyQueriedMetricIsExported() async throws {
            let queried = try Self.queried()
            #expect(queried.count >= 8)
            try await TestServers.withEnvironment(migrate: true) { environment in
                // What `crm migrate` does: the services only check the topology.
                try await environment.declare(Topology.system(desks: SystemHarness.desks))
                var ports: [String: Int] = [:]
                var processes: [Process] = []
                defer { for process in processes where process.isRunning { process.terminate() } }
                for service in ["crm-intake", "crm-scoring", "crm-alerts", "crm-complaints"] {
                    let port = TestPorts.unused()
                    var variables = environment.serviceVariables
                    variables["CRM_HTTP_PORT"] = "\(port)"
                    // Short SLA targets, so a breach happens while the test waits.
                    variables["CRM_COMPLAINTS_SLA_TARGETS"] = "p1=3s/1h,p2=3s/1h,p3=3s/1h,p4=3s/1h"
                    variables["CRM_COMPLAINTS_SWEEP_INTERVAL"] = "1s"
                    processes.append(try Shell.launch(service, environment: variables))
                    ports[service] = port
                }
                for port in ports.values {
                    for _ in 0..<150 where Shell.get("http://127.0.0.1:\(port)/health/ready").status != 200 {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                }
                // Activity that every panel counts: a dead letter, a complaint answered in time (and rated) and one left to
                // breach, a registration, and a valuable customer falling into decline.
                let publisher = AMQPPublisher(
                    settings: environment.amqp,
                    name: "test",
                    topology: Topology.system(desks: SystemHarness.desks),
                    logger: TestServers.logger
                )
                // A safety complaint: its desk works around the clock, so the SLA clock runs whatever the hour (a
                // desk with business hours would put the breach on its next working morning).
                func complaint(_ id: String) -> OutboundMessage {
                    OutboundMessage(
                        exchange: Topology.complaintsExchange,
                        routingKey: "complaint.v1.new",
                        body: Data(
                            #"{"schema":"complaint.v1","complaint_id":"\#(id)","customer_id":"C-1","received_at":"\#(Timestamp(Date()).rfc3339)","channel":"email","subject":"The charger caught fire"}"#
                                .utf8
                        )
                    )
                }
                let scored = CustomerScoredEvent(
                    customerID: try Identifier("C-9"),
                    previousLifecycleStage: .maturity,
                    previousTier: .gold,
                    customer: CustomerValueSnapshot(
                        tier: .gold,
                        lifecycleStage: .decline,
                        clv: try Money("5000.00"),
                        pAlive: 0.3,
                        lastOrderAt: Timestamp(Date().addingTimeInterval(-120 * 86_400)),
                        ordersCount: 12,
                        expectedIntervalDays: 20,
                        daysSinceLastOrder: 120
                    ),
                    scoredAt: Timestamp(Date())
                )
                try await publisher.publish([
                    OutboundMessage(
                        exchange: Topology.ordersExchange,
                        routingKey: "order.v1",
                        body: Data(#"{"schema":"order.v1"}"#.utf8)
                    ),
                    complaint("M-1"), complaint("M-2"),
                    // A registration: a potential customer, scored and announced on crm.lifecycle.
                    OutboundMessage(
                        exchange: Topology.customersExchange,
                        routingKey: "customer.v1",
                        body: Data(
                            #"{"schema":"customer.v1","customer_id":"P-1","registered_at":"\#(Timestamp(Date()).rfc3339)"}"#
                                .utf8
                        )
                    ),
                    OutboundMessage(
                        exchange: Topology.eventsExchange,
                        routingKey: Topology.EventKey.customerScored,
                        body: try scored.encodedBody()
                    ),
                ])
                try await Task.sleep(for: .milliseconds(500))
                try await publisher.publish([
                    OutboundMessage(
                        exchange: Topology.complaintsExchange,
                        routingKey: "complaint.v1.status",
                        body: Data(
                            #"{"schema":"complaint-status.v1","complaint_id":"M-1","status":"acknowledged","at":"\#(Timestamp(Date()).rfc3339)","agent":"a","satisfaction":1}"#
                                .utf8
                        )
                    )
                ])
                await publisher.close()

                var missing = queried
                for _ in 0..<300 where !missing.isEmpty {
                    try await Task.sleep(for: .milliseconds(100))
                    var exported = Set<String>()
                    for port in ports.values {
                        for line in Shell.get("http://127.0.0.1:\(port)/metrics").body.split(separator: "\n")
                        where line.hasPrefix("# TYPE ") {
                            exported.insert(String(line.split(separator: " ")[2]))
                        }
                    }
                    missing = queried.subtracting(exported)
                }
                #expect(
                    missing.isEmpty,
                    "queried by a dashboard or rule but exported by no service: \(missing.sorted())"
                )
                // What each service exports passes Prometheus' own linter: HELP for every metric, counters named
                // _total, units in base units, the process and build metrics present.
                for (service, port) in ports.sorted(by: { $0.key < $1.key }) {
                    let body = "\n" + Shell.get("http://127.0.0.1:\(port)/metrics").body + "\n"
                    let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(service)-\(port).prom")
                    try Data(body.utf8).write(to: file)
                    defer { try? FileManager.default.removeItem(at: file) }
                    #expect(throws: Never.self, "\(service)") {
                        try Shell.run("promtool check metrics < '\(file.path)'")
                    }
                    for name in [
                        "crm_build_info", "process_resident_memory_bytes", "process_open_fds",
                        "process_cpu_seconds_total",
                        "process_start_time_seconds",
                    ] {
                        #expect(body.contains("\n# HELP \(name) "), "\(service) exports no \(name)")
                    }
                    #expect(body.contains("crm_build_info{service=\"\(service)\""), "\(service)")
                }
            }
        }
    }
}
