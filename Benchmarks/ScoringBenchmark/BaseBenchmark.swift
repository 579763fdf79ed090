import CRMSupport
import Foundation
import Scoring
import TestSupport

/// The whole-base outlets on a scored base, measured with the built executables as operators run them:
/// - the full rescoring with and without the base report, alternating in one run;
/// - `crm customers --format csv` of every customer, with the child's peak memory;
/// - `GET /customers?tier=gold&stage=decline&limit=100` on a running `crm-scoring`, page after page;
/// - `crm report --json` and `crm report`.
struct BaseBenchmark {
    let environment: TestEnvironment
    let rescoring: FullRescoring
    let asOf: Date
    let customers: Int

    /// Where the executables are: beside this benchmark.
    static var binDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    }

    func run() async throws {
        try await reportCost()
        try export()
        try await pages()
        try report()
    }

    // MARK: - The report's cost in the full rescoring

    /// Steady-state full rescorings with the report off and on, alternating, three of each.
    func reportCost() async throws {
        print("== base report: full rescoring without and with it, alternating")
        var without: [(wall: Double, cpu: Double)] = []
        var with: [(wall: Double, cpu: Double)] = []
        var reportSeconds: [Double] = []
        for round in 0..<6 {
            var run = rescoring
            run.reportsBase = round % 2 == 1
            let cpuStart = Self.processCPUSeconds()
            let start = ContinuousClock.now
            let report = try await run.run(asOf: asOf)
            let seconds = (ContinuousClock.now - start).seconds
            let cpu = Self.processCPUSeconds() - cpuStart
            let phases = report.phases.map { String(format: "%@ %.2f", $0.name, $0.seconds) }.joined(separator: ", ")
            let stored = report.model.statistics["seconds.write.report"]
            print(
                String(
                    format: "  %@ report: %.2f s, this process's CPU %.2f s (%@)%@",
                    run.reportsBase ? "with   " : "without",
                    seconds,
                    cpu,
                    phases,
                    stored.map { String(format: "; report built and stored in %.3f s", $0) } ?? ""
                )
            )
            if run.reportsBase {
                with.append((seconds, cpu))
                if let stored { reportSeconds.append(stored) }
            } else {
                without.append((seconds, cpu))
            }
        }
        let wall = (SampleStatistics.median(with.map(\.wall)), SampleStatistics.median(without.map(\.wall)))
        let cpu = (SampleStatistics.median(with.map(\.cpu)), SampleStatistics.median(without.map(\.cpu)))
        print(
            String(
                format:
                    "RESULT | full rescoring with the base report against without it (%d customers, medians of 3, alternating) | wall %.1f s against %.1f s (%+.1f%%); this process's CPU %.1f s against %.1f s (%+.1f%%); report built and stored in %.2f s | <= +10%% |",
                customers,
                wall.0,
                wall.1,
                (wall.0 / wall.1 - 1) * 100,
                cpu.0,
                cpu.1,
                (cpu.0 / cpu.1 - 1) * 100,
                SampleStatistics.median(reportSeconds)
            )
        )
    }

    /// User and system CPU seconds of this process so far (every thread).
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    // MARK: - CSV export

    /// `crm customers --format csv --output FILE` of every customer, three times, as a child process, its peak
    /// memory (VmHWM) read from /proc every 10 ms while it runs. (The kernel's rusage of children would also count
    /// the pages a child shares with this large process between fork and exec.)
    func export() throws {
        print("== crm customers --format csv, every customer")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("crm-benchmark-customers.csv")
        defer { try? FileManager.default.removeItem(at: file) }
        var runs: [Double] = []
        var peak = 0.0
        var size = 0
        for _ in 0..<3 {
            let load = Self.loadAverage
            let start = ContinuousClock.now
            let process = try launch("crm", ["customers", "--format", "csv", "--output", file.path])
            var peakKiB = 0.0
            while process.isRunning {
                if let status = try? String(
                    contentsOfFile: "/proc/\(process.processIdentifier)/status",
                    encoding: .utf8
                ),
                    let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                    let kib = Double(line.split(whereSeparator: \.isWhitespace).dropFirst().first ?? "")
                {
                    peakKiB = max(peakKiB, kib)
                }
                usleep(10_000)
            }
            process.waitUntilExit()
            let seconds = (ContinuousClock.now - start).seconds
            size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
            let lines = try countLines(file)
            print(
                String(
                    format: "  exit %d, %.2f s, %d lines, %.0f MiB written, peak RSS of crm %.0f MiB (load average %@)",
                    process.terminationStatus,
                    seconds,
                    lines,
                    Double(size) / 1_048_576,
                    peakKiB / 1024,
                    load
                )
            )
            guard process.terminationStatus == 0, lines == customers + 1 else {
                print("  the export did not write every customer")
                exit(1)
            }
            runs.append(seconds)
            peak = max(peak, peakKiB / 1024)
        }
        print(
            String(
                format:
                    "RESULT | crm customers --format csv, all %d customers (%.0f MiB), 3 runs | best %.2f s, median %.2f s, peak RSS %.0f MiB | < 10 s, flat memory |",
                customers,
                Double(size) / 1_048_576,
                runs.min() ?? .nan,
                SampleStatistics.median(runs),
                peak
            )
        )
    }

    /// The 1-minute load average, for the record: on a shared machine it says how much the figures are worth.
    static var loadAverage: String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?"
        return text.split(separator: " ").first.map(String.init) ?? "?"
    }

    private func countLines(_ file: URL) throws -> Int {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var lines = 0
        while let chunk = try handle.read(upToCount: 1 << 22), !chunk.isEmpty {
            lines += chunk.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
        }
        return lines
    }

    // MARK: - HTTP pages

    /// A running `crm-scoring`, asked for page after page of gold customers in decline, 100 at a time.
    func pages() async throws {
        print("== GET /customers?tier=gold&stage=decline&limit=100 on crm-scoring")
        // What `crm migrate` declares in a deployment: the service only checks its topology exists.
        try await environment.declare(ScoringService.topology)
        let port = TestPorts.unused()
        var variables = environment.serviceVariables
        variables["CRM_HTTP_PORT"] = "\(port)"
        variables["CRM_SCORING_RESCORE_INTERVAL"] = "7d"
        let service = Process()
        service.executableURL = Self.binDirectory.appendingPathComponent("crm-scoring")
        service.environment = ProcessInfo.processInfo.environment.merging(variables) { $1 }
        service.standardOutput = FileHandle.nullDevice
        service.standardError = FileHandle.nullDevice
        try service.run()
        defer { if service.isRunning { service.terminate() } }
        var ready = false
        for _ in 0..<200 where !ready {
            try await Task.sleep(for: .milliseconds(100))
            ready = (try? RawHTTP.get(port: port, path: "/health/ready"))?.status == 200
        }
        guard ready else {
            print("  crm-scoring did not become ready")
            exit(1)
        }
        let first = "/customers?tier=gold&stage=decline&limit=100"
        var path = first
        var latencies: [Double] = []
        var pagesRead = 0
        var customersRead = 0
        let requests = 2_000
        for index in 0..<requests + 100 {
            let start = ContinuousClock.now
            let answer = try RawHTTP.get(port: port, path: path)
            let milliseconds = (ContinuousClock.now - start).seconds * 1000
            guard answer.status == 200,
                let page = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any],
                let list = page["customers"] as? [Any]
            else {
                print("  a page failed: \(answer.status)")
                exit(1)
            }
            if index >= 100 { latencies.append(milliseconds) }  // the first hundred warm the connections up
            pagesRead += 1
            customersRead += list.count
            path = (page["next"] as? String).map { first + "&after=" + $0 } ?? first
        }
        kill(service.processIdentifier, SIGTERM)
        service.waitUntilExit()
        print(
            String(
                format:
                    "  %d requests (%d pages read, %d customers): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms (load average %@)",
                requests,
                pagesRead,
                customersRead,
                SampleStatistics.percentile(latencies, 0.5),
                SampleStatistics.percentile(latencies, 0.9),
                SampleStatistics.percentile(latencies, 0.99),
                latencies.max() ?? .nan,
                Self.loadAverage
            )
        )
        print(
            String(
                format:
                    "RESULT | GET /customers?tier=gold&stage=decline&limit=100 over HTTP, %d pages in sequence | p50 %.1f ms, p99 %.1f ms | p99 < 20 ms |",
                requests,
                SampleStatistics.percentile(latencies, 0.5),
                SampleStatistics.percentile(latencies, 0.99)
            )
        )
    }

    // MARK: - crm report

    /// `crm report --json` and `crm report`, twenty runs each, whole processes.
    func report() throws {
        print("== crm report")
        for arguments in [["report", "--json"], ["report"]] {
            var seconds: [Double] = []
            for _ in 0..<20 {
                let start = ContinuousClock.now
                guard try execute("crm", arguments) == 0 else {
                    print("  crm \(arguments.joined(separator: " ")) failed")
                    exit(1)
                }
                seconds.append((ContinuousClock.now - start).seconds * 1000)
            }
            let command = "crm " + arguments.joined(separator: " ")
            print(
                String(
                    format: "  %@: p50 %.0f ms, max %.0f ms (20 runs, process start to exit)",
                    command,
                    SampleStatistics.median(seconds),
                    seconds.max() ?? .nan
                )
            )
            print(
                String(
                    format: "RESULT | %@ on %d customers, whole process | p50 %.0f ms, max %.0f ms | < 200 ms |",
                    command,
                    customers,
                    SampleStatistics.median(seconds),
                    seconds.max() ?? .nan
                )
            )
        }
    }

    /// Starts an executable of this build with the environment's database.
    private func launch(_ executable: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = Self.binDirectory.appendingPathComponent(executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment.serviceVariables) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs an executable of this build with the environment's database to completion; its exit status.
    private func execute(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let process = try launch(executable, arguments)
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// A plain HTTP/1.1 GET over a socket of its own, read to the end: what a client pays, with nothing of a client
/// library's own in the figure.
