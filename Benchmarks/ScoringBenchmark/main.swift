import Foundation
import Intake
import Scoring
import Shared
import TestSupport

// Full rescoring, measured end to end against the local PostgreSQL (scripts/bench.sh):
//   cdnow      — the CDNOW master (23,570 customers, 69,659 orders) stored by intake's writer, rescored as
//                of 1998-06-30;
//   synthetic  — N customers (default 1,000,000) whose purchases are drawn from known BG/NBD and Gamma-Gamma
//                parameters, bulk-loaded, rescored; the fit must recover the parameters.
// With --lifetimes PYTHON, the same synthetic orders are exported and lifetimes (PyPI) does the same summary,
// fit and prediction (scripts/lifetimes_bench.py), and the ratio is printed.
// Usage: ScoringBenchmark [--customers N] [--skip-cdnow] [--lifetimes /path/to/python]

let arguments = CommandLine.arguments
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let customerCount = Int(option("--customers") ?? "") ?? 1_000_000
let lifetimesPython = option("--lifetimes")

/// Peak resident memory of this process so far, in MiB (VmHWM).
func peakMemoryMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
    else { return .nan }
    let kib = Double(line.split(whereSeparator: \.isWhitespace)[1]) ?? .nan
    return kib / 1024
}

/// Resets the kernel's peak-memory mark so each phase reports its own peak.
func resetPeakMemory() {
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
}

func describe(_ report: FullRescoring.Report, seconds: Double) {
    let phases = report.phases.map { String(format: "%@ %.2f s", $0.name, $0.seconds) }.joined(separator: ", ")
    print(String(format: "  full rescoring: %.2f s for %d customers (%@)", seconds, report.customers, phases))
    print(String(format: "  peak memory of the process: %.0f MiB", peakMemoryMiB()))
    if let bgnbd = report.model.bgnbd?.parameters {
        print(String(format: "  BG/NBD r=%.4f alpha=%.4f a=%.4f b=%.4f", bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b))
    }
    if let spend = report.model.gammaGamma?.parameters {
        print(String(format: "  Gamma-Gamma p=%.4f q=%.4f v=%.4f", spend.p, spend.q, spend.v))
    }
    print("  scores written: \(report.written), customer.scored events: \(report.events)")
}

let logger = TestServers.logger
let settings = ScoringSettings()

if !arguments.contains("--skip-cdnow") {
    print("== CDNOW master, as of 1998-06-30")
    try await TestServers.withEnvironment(migrate: true) { environment in
        let (_, bodies) = try OrderFile.bodies(of: URL(fileURLWithPath: "Tests/Fixtures/cdnow/CDNOW_master.txt"))
        let handler = OrderIntakeHandler(pool: environment.pool, baseCurrency: "USD")
        for start in stride(from: 0, to: bodies.count, by: 1000) {
            _ = try await handler.handle(bodies[start..<min(start + 1000, bodies.count)].map { InboundMessage(body: $0) })
        }
        let asOf = try Timestamp(rfc3339: "1998-06-30T23:59:59.999Z").date
        let rescoring = FullRescoring(pool: environment.pool, settings: settings, logger: logger)
        _ = try await rescoring.run(asOf: asOf)  // warm-up: the first run also writes every customer's first history row
        resetPeakMemory()
        let start = ContinuousClock.now
        let report = try await rescoring.run(asOf: asOf)
        let seconds = (ContinuousClock.now - start).seconds
        describe(report, seconds: seconds)
        print(String(format: "RESULT | full rescoring, CDNOW master (%d customers, %d orders) | %.2f s, peak %.0f MiB | |",
                     report.customers, bodies.count, seconds, peakMemoryMiB()))
    }
}

print("== synthetic base: \(customerCount) customers")
let truth = BGNBD(r: 0.9, alpha: 9.0, a: 0.45, b: 6.0)
let truthSpend = GammaGamma(p: 6.0, q: 4.0, v: 15.0)
let windowWeeks = 156.0
let entryWeeks = 52.0
try await TestServers.withEnvironment(migrate: true) { environment in
    // Customers enter over the first year and are observed to the end of the third; times are whole days.
    let origin = try Timestamp(rfc3339: "2023-01-01T00:00:00Z").date.timeIntervalSince1970
    let generationStart = ContinuousClock.now
    let connection = environment.connection(name: "load")
    let orderCount = try await connection.transaction { connection in
        var simulator = BGNBDSimulator(transactions: truth, spend: truthSpend, seed: 20_261_123)
        var purchases: [BGNBDSimulator.Purchase] = []
        var orderCount = 0
        try connection.execute("CREATE TEMP TABLE synthetic (customer_id text, day integer, amount float8) ON COMMIT DROP")
        var rows: [[(any PostgresEncodable)?]] = []
        rows.reserveCapacity(200_000)
        var entryState: UInt64 = 0x9E37_79B9_7F4A_7C15
        for customer in 0..<customerCount {
            // A cheap deterministic entry day in the first year.
            entryState = entryState &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let entryDay = Int((entryState >> 33) % UInt64(entryWeeks * 7))
            let age = (windowWeeks * 7 - Double(entryDay)) / 7
            _ = simulator.nextCustomer(age: age, purchases: &purchases)
            let id = "S\(customer)"
            for purchase in purchases {
                let day = entryDay + Int((purchase.time * 7).rounded(.down))
                rows.append([id, String(day), String((purchase.amount * 100).rounded() / 100)])
            }
            orderCount += purchases.count
            if rows.count >= 100_000 {
                try connection.copy(into: "synthetic", columns: ["customer_id", "day", "amount"], rows: rows)
                rows.removeAll(keepingCapacity: true)
            }
        }
        try connection.copy(into: "synthetic", columns: ["customer_id", "day", "amount"], rows: rows)
        try connection.execute(
            "INSERT INTO customers (customer_id) SELECT DISTINCT customer_id FROM synthetic")
        try connection.execute(
            """
            INSERT INTO orders (order_id, customer_id, kind, occurred_at, amount, currency, amount_base, channel,
                                content_hash)
            SELECT customer_id || '-' || row_number() OVER (PARTITION BY customer_id), customer_id, 'purchase',
                   to_timestamp($1::float8 + day * 86400.0 + 43200), round(amount::numeric, 4), 'USD',
                   round(amount::numeric, 4), 'synthetic', 'synthetic'
            FROM synthetic
            """, [origin])
        return orderCount
    }
    try await connection.execute("VACUUM ANALYZE orders")
    try await connection.execute("VACUUM ANALYZE customers")
    await connection.close()
    print(String(format: "  generated and loaded %d orders in %.1f s", orderCount, (ContinuousClock.now - generationStart).seconds))
    print(String(format: "  true BG/NBD r=%.4f alpha=%.4f a=%.4f b=%.4f; Gamma-Gamma p=%.4f q=%.4f v=%.4f",
                 truth.r, truth.alpha, truth.a, truth.b, truthSpend.p, truthSpend.q, truthSpend.v))

    let asOf = Date(timeIntervalSince1970: origin + windowWeeks * 7 * 86_400 - 0.001)
    let rescoring = FullRescoring(pool: environment.pool, settings: settings, logger: logger)
    resetPeakMemory()
    var start = ContinuousClock.now
    let first = try await rescoring.run(asOf: asOf)
    let firstSeconds = (ContinuousClock.now - start).seconds
    let firstPeak = peakMemoryMiB()
    print("  first full rescoring (every customer new: every score inserted, every history row written):")
    describe(first, seconds: firstSeconds)
    resetPeakMemory()
    start = ContinuousClock.now
    let second = try await rescoring.run(asOf: asOf)
    let swiftSeconds = (ContinuousClock.now - start).seconds
    let steadyPeak = peakMemoryMiB()
    print("  steady-state full rescoring (scores rewritten, only movers announced):")
    describe(second, seconds: swiftSeconds)
    let modelSeconds = second.phases.filter { $0.name == "fit" || $0.name == "score" }.reduce(0) { $0 + $1.seconds }
    print(String(format: "RESULT | full rescoring, %d customers / %d orders, steady state | %.1f s, peak %.0f MiB | < 60 s |",
                 customerCount, orderCount, swiftSeconds, steadyPeak))
    print(String(format: "RESULT | full rescoring, same base, first run (all scores inserted) | %.1f s, peak %.0f MiB | |",
                 firstSeconds, firstPeak))

    guard let python = lifetimesPython else { return }
    let csv = FileManager.default.temporaryDirectory.appendingPathComponent("crm-synthetic-orders.csv")
    _ = FileManager.default.createFile(atPath: csv.path, contents: nil)
    let handle = try FileHandle(forWritingTo: csv)
    let exporter = environment.connection(name: "export")
    try await exporter.transaction { connection in
        handle.write(Data("customer_id,date,amount\n".utf8))
        var buffer = Data()
        try connection.copyOut(
            "COPY (SELECT customer_id, (occurred_at AT TIME ZONE 'UTC')::date, amount_base FROM orders) TO STDOUT WITH (FORMAT csv)"
        ) { line in
            buffer.append(contentsOf: line)
            buffer.append(10)
            if buffer.count > 1 << 20 {
                handle.write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        handle.write(buffer)
    }
    try handle.close()
    await exporter.close()
    let end = Timestamp(asOf).rfc3339.prefix(10)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = ["scripts/lifetimes_bench.py", csv.path, String(end)]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: output, as: UTF8.self)
    print(text.split(separator: "\n").map { "  lifetimes: " + $0 }.joined(separator: "\n"))
    func figure(_ key: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(key + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }
    if let seconds = figure("total_seconds") {
        print(String(format: "  ratio: lifetimes %.1f s / crm %.1f s = %.1fx", seconds, swiftSeconds, seconds / swiftSeconds))
        print(String(format: "RESULT | lifetimes: summary + fit + prediction of the same orders (from CSV) | %.1f s | crm %.1fx faster end to end |",
                     seconds, seconds / swiftSeconds))
    }
    if let model = figure("model_seconds") {
        print(String(format: "RESULT | fit + prediction alone: lifetimes %.2f s, crm %.2f s | | crm %.1fx faster |",
                     model, modelSeconds, model / modelSeconds))
    }
    try? FileManager.default.removeItem(at: csv)
}
