import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMRuntime
import CRMSupport
import Foundation
import Intake
import Scoring
import TestSupport

// Full rescoring, measured end to end against the local PostgreSQL (scripts/bench.sh):
//   cdnow      — the CDNOW master (23,570 customers, 69,659 orders) stored by intake's writer, rescored as
//                of 1998-06-30; then each purchase model selected in turn on a blank score table, for the stage
//                counts each gives as of 1997-09-30 and 1998-06-30;
//   synthetic  — N customers (default 1,000,000) whose purchases are drawn from known BG/NBD and Gamma-Gamma
//                parameters, bulk-loaded, rescored; the fit must recover the parameters. The steady-state full
//                rescoring runs alternately with BG/NBD alone and with the three purchase models, for what the two
//                others cost in the same run.
// With --lifetimes PYTHON, the same synthetic orders are exported to a CSV file, on which lifetimes (PyPI) does the
// summary, fits and predictions (scripts/lifetimes_bench.py) and crm's scoring engine the same (OrderCSVEngine), and
// the ratios are printed: engine against engine on the same file, per purchase model, and the full rescoring against
// lifetimes. --lifetimes-models LIST limits lifetimes' purchase models (its Pareto/NBD is slow: measure it with
// --customers 100000). --engine-only skips PostgreSQL: the synthetic orders go straight to the file, for the two
// engines alone. On the synthetic base, BaseBenchmark then measures the whole-base outlets (the base report's cost
// in the full rescoring, `crm customers --format csv`, `GET /customers` pages, `crm report`) unless --skip-base.
// `ScoringBenchmark --help` lists the options (Options.swift).
// --keep-database leaves the synthetic base's database in place after a successful run and prints its name (on the
// test server): at ten million customers the load and the first rescoring take 45 minutes, and a kept base lets
// `crm rescore` be measured against it again, build against build. Drop it with `DROP DATABASE` when done.
// --rounds 0 skips the comparison of purchase models (at ten million customers, each round is three more rescorings,
// one of them reading every order). Output is written a line at a time, so a long run can be followed in its log.
func print(_ line: String) {
    Swift.print(line)
    fflush(nil)
}
let options = Options.parseOrExit()
let customerCount = options.customers
let lifetimesPython = options.lifetimes
let lifetimesModels = options.lifetimesModels
let engineOnly = options.engineOnly
/// Alternating pairs of steady-state full rescorings, BG/NBD alone and the three purchase models; none with 0.
let rounds = options.rounds

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

/// How many `customer_scores` rows were updated so far, and how many of them heap-only.
func scoreUpdates(_ pool: PostgresPool) async throws -> (all: Int, heapOnly: Int) {
    let row = try await pool.query(
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'customer_scores'"
    )[0]
    return (try row.decode(0), try row.decode(1))
}

/// What the base takes on disk: the database and its largest tables, each with its indexes (what the disk needs).
func describeDisk(_ pool: PostgresPool, _ moment: String) async throws {
    let rows = try await pool.query(
        """
        SELECT c.relname, pg_total_relation_size(c.oid), pg_database_size(current_database())
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
        ORDER BY 2 DESC LIMIT 6
        """
    )
    let gib = 1_073_741_824.0
    let database: Int64 = try rows.first?.decode(2) ?? 0
    var tables: [String] = []
    for row in rows {
        let (name, bytes): (String, Int64) = (try row.decode(0), try row.decode(1))
        tables.append(String(format: "%@ %.2f", name, Double(bytes) / gib))
    }
    print(
        String(
            format: "  on disk %@: database %.2f GiB (with indexes, GiB: %@)",
            moment,
            Double(database) / gib,
            tables.joined(separator: ", ")
        )
    )
}

func describe(_ report: FullRescoring.Report, seconds: Double) {
    let phases = report.phases.map { String(format: "%@ %.2f s", $0.name, $0.seconds) }.joined(separator: ", ")
    print(String(format: "  full rescoring: %.2f s for %d customers (%@)", seconds, report.customers, phases))
    print(String(format: "  peak memory of the process: %.0f MiB", peakMemoryMiB()))
    describe(report.model)
    print(
        "  scores written: \(report.written), kept as stored: \(report.kept), customer.scored events: \(report.events)"
    )
    let statistics = report.model.statistics
    let merges = Int(statistics["merges"] ?? 0)
    print(
        String(
            format:
                "  spill file %.0f MiB; write phase: merge %.2f s (%@), "
                + "events %.2f s, report %.2f s, waiting for the fits beside it %.2f s",
            (statistics["spill_bytes"] ?? 0) / 1_048_576,
            statistics["seconds.write.merge"] ?? 0,
            merges > 1 ? "\(merges) merges along the scoring" : "\(merges) merge after the scoring",
            statistics["seconds.write.events"] ?? 0,
            statistics["seconds.write.report"] ?? 0,
            statistics["seconds.write.deferred_fits"] ?? 0
        )
    )
}

/// The fitted models, with their fit seconds, and the selection.
func describe(_ model: ScoringModel) {
    func seconds(_ name: String) -> String {
        model.statistics["seconds.fit.\(name)"].map { String(format: " (fit %.2f s)", $0) } ?? ""
    }
    if let bgnbd = model.bgnbd?.parameters {
        print(
            String(format: "  BG/NBD     r=%.4f alpha=%.4f a=%.4f b=%.4f", bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b)
                + seconds("bgnbd")
        )
    }
    if let mbgnbd = model.mbgnbd?.parameters {
        print(
            String(format: "  MBG/NBD    r=%.4f alpha=%.4f a=%.4f b=%.4f", mbgnbd.r, mbgnbd.alpha, mbgnbd.a, mbgnbd.b)
                + seconds("mbgnbd")
        )
    }
    if let pareto = model.paretoNBD?.parameters {
        print(
            String(
                format: "  Pareto/NBD r=%.4f alpha=%.4f s=%.4f beta=%.4f",
                pareto.r,
                pareto.alpha,
                pareto.s,
                pareto.beta
            ) + seconds("pareto_nbd")
        )
    }
    if let spend = model.gammaGamma?.parameters {
        print(String(format: "  Gamma-Gamma p=%.4f q=%.4f v=%.4f", spend.p, spend.q, spend.v) + seconds("gamma_gamma"))
    }
    for (name, code) in model.fitFailures.sorted(by: { $0.key < $1.key }) { print("  \(name) not fitted: \(code)") }
    if let selection = model.selection { print("  selected \(selection.selected.displayName): \(selection.reason)") }
}

let logger = TestServers.logger
let settings = ScoringConfiguration()

if !options.skipCdnow && !engineOnly {
    print("== CDNOW master, as of 1998-06-30")
    try await TestServers.withEnvironment(migrate: true) { environment in
        let (_, bodies) = try OrderFile.bodies(of: URL(fileURLWithPath: "Tests/Fixtures/cdnow/CDNOW_master.txt"))
        let handler = OrderIntakeHandler(pool: environment.pool, outbox: Outbox(of: .intake), baseCurrency: "USD")
        for start in stride(from: 0, to: bodies.count, by: 1000) {
            _ = try await handler.handle(
                bodies[start..<min(start + 1000, bodies.count)].map { InboundMessage(body: $0) }
            )
        }
        let asOf = try Timestamp(rfc3339: "1998-06-30T23:59:59.999Z").date
        let rescoring = FullRescoring(
            pool: environment.pool,
            outbox: Outbox(of: .scoring),
            settings: settings,
            logger: logger
        )
        // Warm-up: the first run also writes every customer's first history row.
        _ = try await rescoring.run(asOf: asOf)
        resetPeakMemory()
        let start = ContinuousClock.now
        let report = try await rescoring.run(asOf: asOf)
        let seconds = (ContinuousClock.now - start).seconds
        describe(report, seconds: seconds)
        print(
            String(
                format: "RESULT | full rescoring, CDNOW master (%d customers, %d orders) | %.2f s, peak %.0f MiB | |",
                report.customers,
                bodies.count,
                seconds,
                peakMemoryMiB()
            )
        )

        // Stages by purchase model: each selected in turn on a blank score table, so that no earlier stage is held; at
        // the end of the calibration period and of the data.
        let stages = LifecycleStage.allCases
        for date in ["1997-09-30", "1998-06-30"] {
            print("  lifecycle stages as of \(date), each purchase model on a blank score table:")
            print(
                "    model       "
                    + stages.map { $0.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined()
            )
            let end = try Timestamp(rfc3339: date + "T23:59:59.999Z").date
            for kind in PurchaseModelKind.allCases {
                try await environment.pool.execute("DELETE FROM customer_score_history")
                try await environment.pool.execute("DELETE FROM customer_scores")
                var chosen = settings
                chosen.purchaseModel = PurchaseModelChoice(rawValue: kind.rawValue)!
                let report = try await FullRescoring(
                    pool: environment.pool,
                    outbox: Outbox(of: .scoring),
                    settings: chosen,
                    logger: logger
                ).run(asOf: end)
                let counts = stages.map { Int(report.model.statistics["customers.stage.\($0.rawValue)"] ?? 0) }
                print(
                    "    " + kind.displayName.padding(toLength: 12, withPad: " ", startingAt: 0)
                        + counts.map { String($0).padding(toLength: 12, withPad: " ", startingAt: 0) }.joined()
                )
                print(
                    "RESULT | CDNOW master as of \(date), stages with \(kind.displayName) | "
                        + zip(stages, counts).filter { $0.1 > 0 }.map { "\($0.0.rawValue) \($0.1)" }
                        .joined(separator: ", ") + " | |"
                )
            }
        }
    }
}

print("== synthetic base: \(customerCount) customers")
let truth = BGNBD(r: 0.9, alpha: 9.0, a: 0.45, b: 6.0)
let truthSpend = GammaGamma(p: 6.0, q: 4.0, v: 15.0)
let windowWeeks = 156.0
let entryWeeks = 36.0
// Customers enter over the first 36 weeks and are observed for three years to the end of yesterday (about ten million
// orders for a million customers); times are whole days. Ending yesterday, the base can be rescored as of its end and
// then as of now: the next day, when every customer's recency and age have grown by a day.
let today = (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400
let origin = today - windowWeeks * 7 * 86_400
let asOf = Date(timeIntervalSince1970: today - 0.001)

/// Draws the synthetic base: `body` hears each customer's id and orders (day since the origin, amount in cents
/// rounded); returns the number of orders.
func generateSyntheticBase(
    _ body: (_ id: String, _ orders: [(day: Int, amount: Double)]) throws -> Void
) rethrows -> Int {
    var simulator = BGNBDSimulator(transactions: truth, spend: truthSpend, seed: 20_261_123)
    var purchases: [BGNBDSimulator.Purchase] = []
    var orderCount = 0
    var entryState: UInt64 = 0x9E37_79B9_7F4A_7C15
    for customer in 0..<customerCount {
        // A cheap deterministic entry day in the entry period.
        entryState = entryState &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let entryDay = Int((entryState >> 33) % UInt64(entryWeeks * 7))
        let age = (windowWeeks * 7 - Double(entryDay)) / 7
        _ = simulator.nextCustomer(age: age, purchases: &purchases)
        try body(
            "S\(customer)",
            purchases.map { (entryDay + Int(($0.time * 7).rounded(.down)), ($0.amount * 100).rounded() / 100) }
        )
        orderCount += purchases.count
    }
    return orderCount
}

let csv = FileManager.default.temporaryDirectory.appendingPathComponent("crm-synthetic-orders.csv")

/// Checks that `model` recovered the generating parameters: every one within 10% (a million customers recover
/// them within 3%); prints the largest error, and stops the benchmark with a failure when a fit missed.
func checkRecovery(_ model: ScoringModel, of what: String) {
    guard let bgnbd = model.bgnbd?.parameters, let spend = model.gammaGamma?.parameters else {
        print("  \(what): no fitted model")
        exit(1)
    }
    let pairs = [
        ("r", bgnbd.r, truth.r), ("alpha", bgnbd.alpha, truth.alpha), ("a", bgnbd.a, truth.a), ("b", bgnbd.b, truth.b),
        ("p", spend.p, truthSpend.p), ("q", spend.q, truthSpend.q), ("v", spend.v, truthSpend.v),
    ]
    let worst = pairs.map { ($0.0, abs($0.1 - $0.2) / $0.2) }.max { $0.1 < $1.1 }!
    print(
        String(
            format: "  %@: generating parameters recovered within %.1f%% (largest error: %@)",
            what,
            worst.1 * 100,
            worst.0
        )
    )
    guard worst.1 <= 0.10 else {
        print("  \(what): the fit did not recover the generating parameters")
        exit(1)
    }
}

/// crm's engine and lifetimes on the CSV file of the synthetic orders; prints both and their ratio, and returns
/// lifetimes' total seconds and its fit + prediction seconds (nil without `--lifetimes`).
func compareEngines() throws -> (total: Double, model: Double)? {
    // The same purchase models as lifetimes fits, so that the whole-file comparison is of the same work.
    var engine = OrderCSVEngine(settings: settings)
    if lifetimesPython != nil {
        engine.kinds = options.lifetimesKinds
    }
    resetPeakMemory()
    let run = try engine.run(path: csv.path, asOf: asOf)
    let phases = run.phases.map { String(format: "%@ %.2f s", $0.name, $0.seconds) }.joined(separator: ", ")
    print(
        String(
            format: "  crm engine on the CSV file: %.2f s for %d customers, %d orders (%@), peak %.0f MiB",
            run.seconds,
            run.customers,
            run.orders,
            phases,
            peakMemoryMiB()
        )
    )
    print("  crm engine:")
    describe(run.model)
    for kind in PurchaseModelKind.allCases {
        guard let seconds = run.modelSeconds[kind] else { continue }
        print(String(format: "  crm engine, %@ fit + prediction: %.2f s", kind.displayName, seconds))
    }
    checkRecovery(run.model, of: "crm engine")
    guard let python = lifetimesPython else { return nil }
    let end = Timestamp(asOf).rfc3339.prefix(10)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = ["scripts/lifetimes_bench.py", csv.path, String(end), "--models", lifetimesModels]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: output, as: UTF8.self)
    print(text.split(separator: "\n").map { "  lifetimes: " + $0 }.joined(separator: "\n"))
    func figure(_ key: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(key + " ") }.flatMap {
            Double($0.split(separator: " ").last ?? "")
        }
    }
    for kind in PurchaseModelKind.allCases {
        guard let theirs = figure("model_seconds.\(kind.rawValue)"), let ours = run.modelSeconds[kind] else { continue }
        print(
            String(
                format:
                    "RESULT | %@ fit + prediction (p_alive, 90-day purchases, value), %d customers: lifetimes %.2f s, crm %.2f s | crm %.1fx faster | >= 10x |",
                kind.displayName,
                run.customers,
                theirs,
                ours,
                theirs / ours
            )
        )
    }
    guard let total = figure("total_seconds"), let model = figure("model_seconds") else { return nil }
    let crmModel =
        (run.modelSeconds[.bgnbd] ?? 0) + (run.model.statistics["seconds.fit.gamma_gamma"] ?? 0)
    print(
        String(
            format: "  ratio, engine against engine on the same file: lifetimes %.1f s / crm %.2f s = %.1fx",
            total,
            run.seconds,
            total / run.seconds
        )
    )
    print(
        String(
            format:
                "RESULT | summary + fit + prediction of the same CSV file: lifetimes %.1f s, crm engine %.2f s (peak %.0f MiB) | crm %.1fx faster | >= 10x |",
            total,
            run.seconds,
            peakMemoryMiB(),
            total / run.seconds
        )
    )
    print(
        String(
            format:
                "RESULT | BG/NBD and Gamma-Gamma fit + prediction: lifetimes %.2f s, crm %.2f s | crm %.1fx faster | |",
            model,
            crmModel,
            model / crmModel
        )
    )
    return (total, model)
}

if engineOnly {
    let start = ContinuousClock.now
    _ = FileManager.default.createFile(atPath: csv.path, contents: nil)
    let handle = try FileHandle(forWritingTo: csv)
    var buffer = "customer_id,date,amount\n"
    let originDay = Int(origin / 86_400)
    let dates = (0..<Int(windowWeeks * 7) + 1).map {
        Timestamp(Date(timeIntervalSince1970: Double(originDay + $0) * 86_400)).rfc3339.prefix(10)
    }
    let orders = generateSyntheticBase { id, orders in
        for order in orders { buffer += "\(id),\(dates[order.day]),\(order.amount)\n" }
        if buffer.utf8.count > 1 << 20 {
            handle.write(Data(buffer.utf8))
            buffer = ""
        }
    }
    handle.write(Data(buffer.utf8))
    try handle.close()
    print(
        String(
            format: "  generated %d orders into %@ in %.1f s",
            orders,
            csv.path,
            (ContinuousClock.now - start).seconds
        )
    )
    _ = try compareEngines()
    try? FileManager.default.removeItem(at: csv)
    exit(0)
}

let keepDatabase = options.keepDatabase
try await TestServers.withEnvironment(migrate: true, keep: keepDatabase) { environment in
    if keepDatabase { print("  database kept after the run: \(environment.database.name)") }
    let generationStart = ContinuousClock.now
    let connection = environment.connection(name: "load")
    // Stored a million customers at a time: each INSERT's statement trigger sums its customers' orders up into
    // customer_activity, as it does for every batch intake stores.
    let orderCount = try await connection.transaction { connection in
        try connection.execute(
            "CREATE TEMP TABLE synthetic (customer_id text, day integer, amount float8) ON COMMIT DROP"
        )
        var rows: [[(any PostgresEncodable)?]] = []
        rows.reserveCapacity(200_000)
        var customers = 0
        func flush(_ connection: isolated PostgresConnection) throws {
            try connection.copy(into: "synthetic", columns: ["customer_id", "day", "amount"], rows: rows)
            rows.removeAll(keepingCapacity: true)
        }
        func store(_ connection: isolated PostgresConnection) throws {
            try flush(connection)
            try connection.execute(
                "INSERT INTO customers (customer_id) SELECT DISTINCT customer_id FROM synthetic"
            )
            try connection.execute(SyntheticOrders.insert, [origin])
            try connection.execute("TRUNCATE synthetic")
        }
        let orderCount = try generateSyntheticBase { id, orders in
            for order in orders { rows.append([id, String(order.day), String(order.amount)]) }
            if rows.count >= 100_000 { try flush(connection) }
            customers += 1
            if customers % 1_000_000 == 0 { try store(connection) }
        }
        try store(connection)
        return orderCount
    }
    try await connection.execute("VACUUM ANALYZE orders")
    try await connection.execute("VACUUM ANALYZE customers")
    // Each customer's row was stored empty with the customer, then filled in by its orders: the empty versions go.
    try await connection.execute("VACUUM ANALYZE customer_activity")
    await connection.close()
    print(
        String(
            format: "  generated and loaded %d orders in %.1f s",
            orderCount,
            (ContinuousClock.now - generationStart).seconds
        )
    )
    print(
        String(
            format: "  true BG/NBD r=%.4f alpha=%.4f a=%.4f b=%.4f; Gamma-Gamma p=%.4f q=%.4f v=%.4f",
            truth.r,
            truth.alpha,
            truth.a,
            truth.b,
            truthSpend.p,
            truthSpend.q,
            truthSpend.v
        )
    )

    try await describeDisk(environment.pool, "after loading")
    let rescoring = FullRescoring(
        pool: environment.pool,
        outbox: Outbox(of: .scoring),
        settings: settings,
        logger: logger
    )
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
    checkRecovery(second.model, of: "full rescoring")
    // The same, read from the orders instead of the stored activities; then a day later.
    var fromOrders = rescoring
    fromOrders.readsStoredActivity = false
    start = ContinuousClock.now
    let sorted = try await fromOrders.run(asOf: asOf)
    let sortedSeconds = (ContinuousClock.now - start).seconds
    print("  steady-state full rescoring, every order read and sorted (as before customer_activity):")
    describe(sorted, seconds: sortedSeconds)
    // The runs so far were replays (as of yesterday), which announce no lifecycle events: the first run of the present
    // would announce every customer's first stage, once. A system scoring the present every day has announced them
    // all along, which is what the next day is measured against.
    try await environment.pool.execute("UPDATE customer_scores SET announced_stage = lifecycle_stage")
    try await environment.pool.execute("VACUUM customer_scores")
    // A server process reports its counts when idle, at most every 10 s.
    try await Task.sleep(for: .seconds(11))
    let updatesBefore = try await scoreUpdates(environment.pool)
    resetPeakMemory()
    start = ContinuousClock.now
    let nextDay = try await rescoring.run()
    let nextDaySeconds = (ContinuousClock.now - start).seconds
    let nextDayPeak = peakMemoryMiB()
    print("  the next day (as of now: every customer's age and recency one day more, the scores that moved rewritten):")
    // A run that passed midnight after loading scores a second day: the day-granular figures move twice.
    let daysAfter = Int((nextDay.model.asOf.timeIntervalSince1970 / 86_400).rounded(.down) - today / 86_400) + 1
    if daysAfter != 1 {
        print("  (as of \(daysAfter) calendar days after the base's end: more scores move than in one)")
    }
    describe(nextDay, seconds: nextDaySeconds)
    print("  lifecycle events announced: \(Int(nextDay.model.statistics["lifecycle_events"] ?? 0))")
    try await Task.sleep(for: .seconds(11))
    let updatesAfter = try await scoreUpdates(environment.pool)
    let (updated, heapOnly) = (updatesAfter.all - updatesBefore.all, updatesAfter.heapOnly - updatesBefore.heapOnly)
    /// The same next day run by `variant`, from yesterday's scores announced (where each comparison starts), timed and
    /// described under `title`.
    func sameNextDay(_ variant: FullRescoring, _ title: String) async throws -> (FullRescoring.Report, Double) {
        _ = try await rescoring.run(asOf: asOf)
        try await environment.pool.execute("UPDATE customer_scores SET announced_stage = lifecycle_stage")
        try await environment.pool.execute("VACUUM customer_scores")
        resetPeakMemory()
        let began = ContinuousClock.now
        let report = try await variant.run()
        let seconds = (ContinuousClock.now - began).seconds
        print("  the same next day, \(title):")
        describe(report, seconds: seconds)
        return (report, seconds)
    }
    // The moved scores found by a hash of every stored score, as PostgreSQL plans it with its default random_page_cost,
    // once after the last chunk is scored (a merge along the scoring probes by key).
    var hashingAll = rescoring
    hashingAll.probesFewScores = false
    let (nextDayHashed, nextDayHashedSeconds) = try await sameNextDay(
        hashingAll,
        "the moved scores merged once after the scoring, by a hash of every stored score (random_page_cost as set)"
    )
    // Every score rewritten, as before scores were kept.
    var rewritingAll = rescoring
    rewritingAll.keepsUnmovedScores = false
    let (nextDayAll, nextDayAllSeconds) = try await sameNextDay(
        rewritingAll,
        "every score rewritten (as before scores were kept)"
    )
    print(
        String(
            format: "  score rows updated the next day: %d, heap-only (no index entry written) %d (%.1f%%)",
            updated,
            heapOnly,
            100 * Double(heapOnly) / Double(max(updated, 1))
        )
    )
    try await describeDisk(environment.pool, "after six rescorings")
    func phase(_ report: FullRescoring.Report, _ name: String) -> Double {
        report.phases.first { $0.name == name }?.seconds ?? .nan
    }
    print(
        String(
            format:
                "RESULT | full rescoring, %d customers, read phase: stored activities against every order (same run) | %.2f s against %.2f s | |",
            customerCount,
            phase(second, "read"),
            phase(sorted, "read")
        )
    )
    print(
        String(
            format:
                "RESULT | full rescoring, %d customers / %d orders, the next day | %.1f s (write %.1f s, %d of %d scores kept), peak %.0f MiB | < 10 s at 1M, < 180 s at 10M |",
            customerCount,
            orderCount,
            nextDaySeconds,
            phase(nextDay, "write"),
            nextDay.kept,
            nextDay.customers,
            nextDayPeak
        )
    )
    print(
        String(
            format:
                "RESULT | full rescoring, the same next day, merged once by a hash of every score (same run) | %.1f s (write %.1f s, merge %.1f s against %.1f s along the scoring) | |",
            nextDayHashedSeconds,
            phase(nextDayHashed, "write"),
            nextDayHashed.model.statistics["seconds.write.merge"] ?? .nan,
            nextDay.model.statistics["seconds.write.merge"] ?? .nan
        )
    )
    print(
        String(
            format:
                "RESULT | full rescoring, the same next day, every score rewritten (same run) | %.1f s (write %.1f s) | |",
            nextDayAllSeconds,
            phase(nextDayAll, "write")
        )
    )
    print(
        String(
            format:
                "RESULT | full rescoring, %d customers / %d orders, steady state | %.1f s, peak %.0f MiB | < 60 s |",
            customerCount,
            orderCount,
            swiftSeconds,
            steadyPeak
        )
    )
    print(
        String(
            format: "RESULT | full rescoring, same base, first run (all scores inserted) | %.1f s, peak %.0f MiB | |",
            firstSeconds,
            firstPeak
        )
    )

    // What MBG/NBD and Pareto/NBD cost: steady-state rescorings alternating BG/NBD alone, the three models, and the
    // three models with a scheduled 26-week holdout validation.
    if rounds > 0 {
        var single = rescoring
        single.purchaseModels = [.bgnbd]
        var validating = settings
        validating.validationHoldoutDays = 182
        let validated = FullRescoring(
            pool: environment.pool,
            outbox: Outbox(of: .scoring),
            settings: validating,
            logger: logger
        )
        let variants = [
            ("BG/NBD alone", single), ("three purchase models", rescoring), ("three, validated", validated),
        ]
        var seconds: [String: [Double]] = [:]
        for round in 1...rounds {
            for (name, run) in variants {
                start = ContinuousClock.now
                let report = try await run.run(asOf: asOf)
                let total = (ContinuousClock.now - start).seconds
                seconds[name, default: []].append(total)
                for phase in report.phases { seconds["\(name) \(phase.name)", default: []].append(phase.seconds) }
                let phases = report.phases.map { String(format: "%@ %.2f", $0.name, $0.seconds) }
                print(String(format: "  round %d, %@: %.2f s (%@)", round, name, total, phases.joined(separator: ", ")))
            }
        }
        func median(of name: String) -> Double { SampleStatistics.median(seconds[name] ?? [.nan]) }
        let (one, all, checked) = (
            median(of: "BG/NBD alone"), median(of: "three purchase models"), median(of: "three, validated")
        )
        print(
            String(
                format:
                    "RESULT | full rescoring, %d customers, three purchase models against BG/NBD alone (same run, medians of %d) | %.1f s against %.1f s: %+.0f%% (fit %.2f s against %.2f s) | <= +30%% |",
                customerCount,
                rounds,
                all,
                one,
                (all / one - 1) * 100,
                median(of: "three purchase models fit"),
                median(of: "BG/NBD alone fit")
            )
        )
        print(
            String(
                format:
                    "RESULT | full rescoring, %d customers, three purchase models and a 26-week holdout validation (same run) | %.1f s: %+.0f%% against BG/NBD alone (validate %.2f s) | |",
                customerCount,
                checked,
                (checked / one - 1) * 100,
                median(of: "three, validated validate")
            )
        )
    }
    if !options.skipBase {
        try await BaseBenchmark(environment: environment, rescoring: rescoring, asOf: asOf, customers: customerCount)
            .run()
    }

    guard lifetimesPython != nil else { return }
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
    if let lifetimes = try compareEngines() {
        print(
            String(
                format:
                    "  ratio, full rescoring (from PostgreSQL, written back) against lifetimes (from the file, nothing written): %.1f s / %.1f s = %.1fx",
                lifetimes.total,
                swiftSeconds,
                lifetimes.total / swiftSeconds
            )
        )
        print(
            String(
                format:
                    "RESULT | full rescoring from PostgreSQL and back, against lifetimes from the file | crm %.1f s, lifetimes %.1f s | crm %.1fx faster | |",
                swiftSeconds,
                lifetimes.total,
                lifetimes.total / swiftSeconds
            )
        )
    }
    try? FileManager.default.removeItem(at: csv)
}
