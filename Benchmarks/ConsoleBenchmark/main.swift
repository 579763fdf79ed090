import ArgumentParser
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMRuntime
import CRMSupport
import Console
import Foundation
import Logging
import Scoring
import TestSupport

// The web console on a scored base of a million customers: `crm-console` (this build's executable, as its own
// database role) is signed in to, then every page is asked for again and again in sequence; each request's time
// from sending to the last byte is recorded (loopback, so the server's time plus a socket's), and p50/p99 printed
// per page. `ConsoleBenchmark --help` lists the options.

/// The command line: a count that is not a positive number, or an unknown flag, stops the run (exit 64, naming it).
struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ConsoleBenchmark",
        abstract: "Every console page's p50 and p99 on a scored base, asked for again and again in sequence."
    )

    @Option(help: ArgumentHelp("Customers in the scored base.", valueName: "n"))
    var customers = 1_000_000

    @Option(help: ArgumentHelp("Requests per page.", valueName: "n"))
    var requests = 200

    func validate() throws {
        guard customers > 0 else { throw ValidationError("--customers needs a positive number, not \(customers)") }
        guard requests > 0 else { throw ValidationError("--requests needs a positive number, not \(requests)") }
    }
}
let options = Options.parseOrExit()
let customerCount = options.customers
let requests = options.requests
var logger = Logger(label: "console-benchmark")
logger.logLevel = .warning

/// Where the executables are: beside this benchmark.
let binDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()

try await TestServers.withEnvironment(migrate: true) { environment in
    // A base drawn from BG/NBD and Gamma-Gamma (the parameters of ScoringBenchmark's synthetic base): customers
    // enter over the first 36 weeks and are observed to the end of the third year; seeded, so every run draws the
    // same base. Regions and types are spread over the customers.
    print("== console on \(customerCount) customers")
    var start = ContinuousClock.now
    let origin = try Timestamp(rfc3339: "2023-01-01T00:00:00Z").date.timeIntervalSince1970
    let windowWeeks = 156.0
    let asOf = Date(timeIntervalSince1970: origin + windowWeeks * 7 * 86_400 - 0.001)
    let connection = environment.connection(name: "load")
    try await connection.transaction { connection in
        try connection.execute(
            "CREATE TEMP TABLE synthetic (customer_id text, day integer, amount float8) ON COMMIT DROP"
        )
        var simulator = BGNBDSimulator(
            transactions: BGNBD(r: 0.9, alpha: 9.0, a: 0.45, b: 6.0),
            spend: GammaGamma(p: 6.0, q: 4.0, v: 15.0),
            seed: 20_261_205
        )
        var purchases: [BGNBDSimulator.Purchase] = []
        var rows: [[(any PostgresEncodable)?]] = []
        rows.reserveCapacity(200_000)
        var entryState: UInt64 = 0x9E37_79B9_7F4A_7C15
        for customer in 0..<customerCount {
            entryState = entryState &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let entryDay = Int((entryState >> 33) % UInt64(36 * 7))
            _ = simulator.nextCustomer(age: (windowWeeks * 7 - Double(entryDay)) / 7, purchases: &purchases)
            for purchase in purchases {
                let day = entryDay + Int((purchase.time * 7).rounded(.down))
                rows.append(["S\(customer)", String(day), String((purchase.amount * 100).rounded() / 100)])
            }
            if rows.count >= 100_000 {
                try connection.copy(into: "synthetic", columns: ["customer_id", "day", "amount"], rows: rows)
                rows.removeAll(keepingCapacity: true)
            }
        }
        try connection.copy(into: "synthetic", columns: ["customer_id", "day", "amount"], rows: rows)
        try connection.execute(
            """
            INSERT INTO customers (customer_id, name, region, customer_type)
            SELECT customer_id, 'Customer ' || customer_id,
                   (ARRAY['north', 'south', 'east', 'west'])[abs(hashtext(customer_id)) % 4 + 1],
                   CASE WHEN abs(hashtext(customer_id)) % 10 = 0 THEN 'intermediate' ELSE 'final' END
            FROM (SELECT DISTINCT customer_id FROM synthetic) c
            """
        )
        try connection.execute(SyntheticOrders.insert, [origin])
    }
    try await connection.execute("VACUUM ANALYZE orders")
    try await connection.execute("VACUUM ANALYZE customers")
    await connection.close()
    let orders = try await environment.pool.query("SELECT count(*) FROM orders")[0].decode(0, as: Int.self)
    print(String(format: "  loaded %d orders in %.1f s", orders, (ContinuousClock.now - start).seconds))
    start = ContinuousClock.now
    let rescoring = FullRescoring(
        pool: environment.pool,
        outbox: Outbox(of: .scoring),
        settings: ScoringConfiguration(),
        logger: logger
    )
    _ = try await rescoring.run(asOf: asOf)
    _ = try await rescoring.run(asOf: asOf)
    try await environment.pool.execute("VACUUM ANALYZE customer_scores")
    print(String(format: "  two full rescorings in %.1f s", (ContinuousClock.now - start).seconds))
    if let report = try await BaseReportStore.latest(pool: environment.pool) {
        print("  tiers \(report.tiers.sorted { $0.key < $1.key }), stages \(report.stages.filter { $0.value > 0 })")
    }
    // Some desk and alert activity for the desks and retention pages.
    try await environment.pool.execute(
        """
        INSERT INTO complaints (complaint_id, customer_id, received_at, channel, message, category, category_source,
            category_score, severity, priority, desk, matched_rule, rules_version, open_complaints, routed, state,
            responded_at, first_response_outcome, escalation_level)
        SELECT 'K-' || n, 'S' || n, timestamptz '2025-10-01' + n * interval '1 minute', 'email', '{}', 'delivery',
               'rules', 1, 'medium', 'p2', (ARRAY['logistics', 'billing', 'vip', 'general'])[n % 4 + 1], 'r', 1, 0, '{}',
               CASE WHEN n % 3 = 0 THEN 'resolved' ELSE 'in_progress' END, timestamptz '2025-10-01' + n * interval '1 minute' + interval '20 minutes',
               CASE WHEN n % 7 = 0 THEN 'breached' ELSE 'met' END, CASE WHEN n % 11 = 0 THEN 1 ELSE 0 END
        FROM generate_series(1, 100000) n
        """
    )
    try await environment.pool.execute(
        """
        INSERT INTO retention_alerts (alert_id, customer_id, raised_at, scored_at, priority, reasons, value_at_risk,
            tier, lifecycle_stage, suggested_action, evidence, body, delivery, status, outcome)
        SELECT md5('a' || n)::uuid, 'S' || n, timestamptz '2025-06-01' + n * interval '1 minute', timestamptz '2025-06-01',
               (ARRAY['p1', 'p2', 'p3'])[n % 3 + 1], ARRAY['p_alive_low'], 100, 'gold', 'decline', 'call', '{}', '{}',
               'queued', CASE WHEN n % 2 = 0 THEN 'resolved' ELSE 'open' END,
               CASE WHEN n % 2 = 0 THEN (ARRAY['retained', 'lost'])[n % 4 / 2 + 1] END
        FROM generate_series(1, 50000) n
        """
    )
    try await environment.pool.execute(
        "INSERT INTO retention_alert_reasons (alert_id, customer_id, reason, open) SELECT alert_id, customer_id, reasons[1], status <> 'resolved' FROM retention_alerts"
    )
    try await environment.pool.execute("ANALYZE")
    _ = try await ConsoleUsers.add(
        name: "bench",
        role: .admin,
        password: "benchmark password",
        replace: true,
        pool: environment.pool
    )

    try await environment.grantServiceAccounts()
    let port = TestPorts.unused()
    var variables = environment.serviceVariables
    variables["CRM_HTTP_PORT"] = "\(port)"
    variables["CRM_DATABASE_URL"] = try environment.databaseURL(as: .console)
    variables["CRM_AMQP_URL"] = nil
    let service = Process()
    service.executableURL = binDirectory.appendingPathComponent("crm-console")
    service.environment = ProcessInfo.processInfo.environment.merging(variables) { $1 }.filter {
        $0.key != "CRM_AMQP_URL"
    }
    service.standardOutput = FileHandle.nullDevice
    service.standardError = FileHandle.nullDevice
    try service.run()
    defer { if service.isRunning { service.terminate() } }
    var ready = false
    for _ in 0..<200 where !ready {
        try await Task.sleep(for: .milliseconds(100))
        ready = (try? RawHTTP.send(port: port, "GET /health/ready"))?.status == 200
    }
    guard ready else {
        print("  crm-console did not become ready")
        exit(1)
    }
    let form = try RawHTTP.send(port: port, "GET /console/login")
    guard let loginToken = form.cookie("crm_console_login") else {
        print("  no sign-in form")
        exit(1)
    }
    let body = "csrf_token=\(loginToken)&username=bench&password=benchmark+password"
    let signedIn = try RawHTTP.send(
        port: port,
        "POST /console/login",
        headers: ["Cookie: crm_console_login=\(loginToken)", "Content-Type: application/x-www-form-urlencoded"],
        body: body
    )
    guard let session = signedIn.cookie("crm_console_session") else {
        print("  sign-in refused: \(signedIn.status)")
        exit(1)
    }
    let cookie = ["Cookie: crm_console_session=\(session)"]

    // Customers to open: spread over the base.
    let ids = (0..<requests).map { "S\(($0 * 7919) % customerCount)" }
    var nextPage: String?
    let pages: [(name: String, path: () -> String)] = [
        ("overview /console/", { "/console/" }),
        ("customers, first page", { "/console/customers" }),
        ("customers tier=gold&stage=decline", { "/console/customers?tier=gold&stage=decline" }),
        (
            "customers segment=at_risk by clv.predicted:desc",
            { "/console/customers?segment=at_risk&sort=clv.predicted:desc" }
        ),
        (
            "customers tier=silver, pages in sequence (keyset)",
            {
                "/console/customers?tier=silver" + (nextPage.map { "&after=" + $0 } ?? "")
            }
        ),
        ("customer /console/customers/ID", { "/console/customers/" + ids.randomElement()! }),
        ("model", { "/console/model" }),
        ("desks", { "/console/desks" }),
        ("retention", { "/console/retention" }),
    ]
    var rows: [String] = []
    for page in pages {
        var latencies: [Double] = []
        var bytes = 0
        for index in 0..<(requests + 10) {
            let path = page.path()
            let started = ContinuousClock.now
            let answer = try RawHTTP.send(port: port, "GET \(path)", headers: cookie)
            let milliseconds = (ContinuousClock.now - started).seconds * 1000
            guard answer.status == 200 else {
                print("  \(path) answered \(answer.status)")
                exit(1)
            }
            if index >= 10 { latencies.append(milliseconds) }  // the first ten warm up connections and caches
            bytes = answer.body.count
            if page.name.contains("pages in sequence") {
                let marker = "after="
                let text = String(decoding: answer.body, as: UTF8.self)
                if let range = text.range(of: #"id="next-page" href=""#) {
                    let link = text[range.upperBound...].prefix { $0 != "\"" }
                    nextPage = link.range(of: marker).map {
                        String(link[$0.upperBound...]).components(separatedBy: "&amp;").first ?? ""
                    }
                } else {
                    nextPage = nil
                }
            }
        }
        let p50 = SampleStatistics.percentile(latencies, 0.5)
        let p99 = SampleStatistics.percentile(latencies, 0.99)
        print(
            String(
                format: "  %-48@ p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms  (%d KB)",
                page.name as NSString,
                p50,
                p99,
                latencies.max() ?? .nan,
                bytes / 1024
            )
        )
        rows.append(
            String(
                format: "RESULT | console page: %@ (%d customers, %d requests) | p50 %.1f ms, p99 %.1f ms | < 300 ms |",
                page.name,
                customerCount,
                requests,
                p50,
                p99
            )
        )
    }
    // The CSV download of a selection, whole.
    let csvStart = ContinuousClock.now
    let csv = try RawHTTP.send(port: port, "GET /console/customers.csv?tier=gold", headers: cookie)
    let csvSeconds = (ContinuousClock.now - csvStart).seconds
    let csvRows = csv.body.reduce(0) { $0 + ($1 == 10 ? 1 : 0) } - 1
    rows.append(
        String(
            format: "RESULT | console CSV download tier=gold, whole selection | %d rows in %.1f s (%.0f rows/s) | |",
            csvRows,
            csvSeconds,
            Double(csvRows) / csvSeconds
        )
    )
    kill(service.processIdentifier, SIGTERM)
    service.waitUntilExit()
    for row in rows { print(row) }
}
