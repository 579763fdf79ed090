import CRMSchema
import CRMSupport
import Foundation
import TestSupport
import Testing

extension SystemTests {
    /// The HTTP port serves health and metrics (and scoring's customer read API), to GET only, and gives nothing
    /// away: no other path, no secret in any answer.
    @Suite("HTTP exposure", .serialized)
    struct HTTPExposureTests {
        /// The status of a request with `method`, or 0 when nothing answers.
        static func status(_ method: String, _ url: String) -> Int {
            let output = try? Shell.run(
                "curl -s -o /dev/null -m 5 -X \(method) -w '%{http_code}' --path-as-is '\(url)'"
            )
            return Int(output?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        }

        @Test func onlyHealthMetricsAndScoringsReadAPIAreServed() async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                await (try await SystemHarness.prepareDeployment(environment)).close()
                var ports: [ServiceAccount: Int] = [:]
                var processes: [Process] = []
                defer { for process in processes where process.isRunning { process.terminate() } }
                for account in ServiceAccount.allCases {
                    let port = TestPorts.unused()
                    var variables = try environment.serviceVariables(as: account)
                    variables["CRM_HTTP_PORT"] = "\(port)"
                    processes.append(try Shell.launch(account.executable, environment: variables))
                    ports[account] = port
                }
                let secrets =
                    try [environment.amqp.password] + ServiceAccount.allCases.map { try TestServers.password(of: $0) }
                for (account, port) in ports.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                    let base = "http://127.0.0.1:\(port)"
                    var ready = (status: 0, body: "")
                    for _ in 0..<150 where ready.status != 200 {
                        try await Task.sleep(for: .milliseconds(100))
                        ready = Shell.get("\(base)/health/ready")
                    }
                    #expect(ready.status == 200, "\(account.executable) ready: \(ready)")
                    for path in ["/health/live", "/metrics"] {
                        let answer = Shell.get(base + path)
                        #expect(answer.status == 200, "\(account.executable) \(path)")
                        for secret in secrets {
                            #expect(!answer.body.contains(secret), "\(account.executable) \(path) shows a password")
                        }
                    }
                    var hidden = [
                        "/", "/health", "/health/", "/metrics/", "/debug", "/admin", "/env", "/config", "/customers/",
                        "/report/", "/health/ready/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                    ]
                    // Scoring serves the customer list and the base report; the others serve neither.
                    if account != .scoring { hidden += ["/customers", "/report"] }
                    for path in hidden {
                        #expect(Self.status("GET", base + path) == 404, "\(account.executable) serves \(path)")
                    }
                    for method in ["POST", "PUT", "DELETE", "PATCH"] {
                        #expect(Self.status(method, base + "/metrics") == 405, "\(account.executable) takes \(method)")
                    }
                    #expect(
                        Self.status("GET", base + "/customers/C-404") == 404,
                        "\(account.executable) /customers/C-404"
                    )
                    if account != .scoring {
                        #expect(
                            Self.status("GET", base + "/customers/C-1") == 404,
                            "\(account.executable) serves customers"
                        )
                    }
                }
                // Scoring's read API answers for a customer it knows, and nothing else under /customers.
                try await environment.pool.execute("INSERT INTO customers (customer_id, name) VALUES ('C-1', 'Li Lei')")
                try await environment.pool.execute(
                    """
                    INSERT INTO customer_scores (customer_id, scored_at, orders_count, transactions, monetary_total,
                        monetary_average, clv_historical, clv_simple, lifecycle_stage, lifecycle_rule, tier)
                    VALUES ('C-1', now(), 1, 1, 5, 5, 5, 5, 'potential', 'test', 'bronze')
                    """
                )
                let scoring = "http://127.0.0.1:\(ports[.scoring] ?? 0)"
                let known = Shell.get(scoring + "/customers/C-1")
                #expect(known.status == 200, "\(known)")
                #expect(!known.body.contains("Li Lei"), "the read API shows a customer's name")
                #expect(Self.status("GET", scoring + "/customers/C-1/../../metrics") == 404)
                // An id no customer can have is the client's mistake, not the database's: 400, naming the problem.
                for bad in ["%00", "C%0A1", "A%E2%80%8B1", String(repeating: "x", count: 129)] {
                    let answer = Shell.get(scoring + "/customers/" + bad)
                    #expect(answer.status == 400, "/customers/\(bad): \(answer)")
                    #expect(answer.body.contains("customer id: "), "\(answer.body)")
                }
                let list = Shell.get(scoring + "/customers?tier=bronze")
                #expect(list.status == 200 && list.body.contains("C-1"), "\(list)")
                #expect(!list.body.contains("Li Lei"), "the customer list shows a customer's name")
                #expect(Self.status("GET", scoring + "/customers?tier=platinum") == 400)
                // 404 before the first full rescoring, which crm-scoring's schedule starts as soon as it runs: the
                // answer must agree with the table (read before and after, in case the rescoring ends between).
                func reports() async throws -> Int {
                    try await environment.pool.query("SELECT count(*) FROM base_reports")[0].decode(0, as: Int.self)
                }
                let before = try await reports()
                let report = Self.status("GET", scoring + "/report")
                let after = try await reports()
                if before == after { #expect(report == (after == 0 ? 404 : 200), "/report with \(after) reports") }
                for secret in secrets { #expect(!Shell.get(scoring + "/report").body.contains(secret), "/report") }
                for process in processes { kill(process.processIdentifier, SIGTERM) }
            }
        }
    }
}
