import ArgumentParser
import Foundation
import Scoring
import Synchronization

/// `crm customers`: scored customers, filtered and sorted, as a table, CSV or JSON lines, streamed.
struct Customers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List or export scored customers: filtered, sorted, as a table, CSV or JSON lines.",
        discussion: """
            Filters combine with AND. Rows stream from PostgreSQL as they are read and are written at once, so a \
            base of any size exports in flat memory. A csv row has one column per leaf of the customer object, \
            named by its dotted path (rfm.r, clv.predicted), after a header line (RFC 4180, CRLF line ends); a \
            jsonl line is the object of crm customer ID --json without history. Times are RFC 3339 with an \
            offset; money bounds are decimals in the base currency. A progress bar goes to standard error when it \
            is a terminal; the count goes there at the end. With --output the file appears only once complete. \
            Sort fields: \(CustomerSort.Field.allCases.map(\.rawValue).joined(separator: ", ")).
            """
    )

    @Option(help: "gold, silver or bronze.") var tier: String?
    @Option(help: "A lifecycle stage: potential, development, growth, maturity, decline, termination, recovery.")
    var stage: String?
    @Option(help: "A nine-grid cell, value-second (high-low).") var grid: String?
    @Option(help: "An RFM segment (champions, loyal, at_risk, ...).") var segment: String?
    @Option(help: "The customer's region.") var region: String?
    @Option(help: "final or intermediate.") var type: String?
    @Option(name: .customLong("min-orders"), help: "At least N purchase orders.") var minOrders: String?
    @Option(name: .customLong("max-orders"), help: "At most N purchase orders.") var maxOrders: String?
    @Option(name: .customLong("min-clv"), help: "Predicted lifetime value at least X.") var minCLV: String?
    @Option(name: .customLong("max-clv"), help: "Predicted lifetime value at most X.") var maxCLV: String?
    @Option(name: .customLong("min-historical"), help: "Historical value at least X.") var minHistorical: String?
    @Option(name: .customLong("max-historical"), help: "Historical value at most X.") var maxHistorical: String?
    @Option(name: .customLong("min-p-alive"), help: "p_alive at least X (0 to 1).") var minPAlive: String?
    @Option(name: .customLong("max-p-alive"), help: "p_alive at most X (0 to 1).") var maxPAlive: String?
    @Option(name: .customLong("last-order-before"), help: "Last order before TIME (RFC 3339).")
    var lastOrderBefore: String?
    @Option(name: .customLong("last-order-after"), help: "Last order after TIME (RFC 3339).")
    var lastOrderAfter: String?
    @Option(help: "Flagged: fraud, bad_debt, opt_out or do_not_retain.") var flag: String?
    @Option(help: "FIELD[:asc|:desc]; default customer_id:asc. Customers without the field come last.")
    var sort: String?
    @Option(help: "At most N customers.") var limit: String?
    @Option(help: "table, csv or jsonl.") var format = "table"
    @Option(help: "Write to FILE instead of standard output.", completion: .file()) var output: String?

    /// Each filter's flag, its query-parameter name (the shared parser's), and the value given.
    private var filters: [(flag: String, parameter: String, value: String?)] {
        [
            ("--tier", "tier", tier), ("--stage", "stage", stage), ("--grid", "grid", grid),
            ("--segment", "segment", segment), ("--region", "region", region), ("--type", "type", type),
            ("--min-orders", "min_orders", minOrders), ("--max-orders", "max_orders", maxOrders),
            ("--min-clv", "min_clv", minCLV), ("--max-clv", "max_clv", maxCLV),
            ("--min-historical", "min_historical", minHistorical),
            ("--max-historical", "max_historical", maxHistorical),
            ("--min-p-alive", "min_p_alive", minPAlive), ("--max-p-alive", "max_p_alive", maxPAlive),
            ("--last-order-before", "last_order_before", lastOrderBefore),
            ("--last-order-after", "last_order_after", lastOrderAfter), ("--flag", "flag", flag),
        ]
    }

    /// The query, or a one-line usage failure naming the flag.
    func query() throws(CommandFailure) -> (CustomerQuery, CustomerFormat) {
        let filters = self.filters
        do throws(CustomerSelectionError) {
            var filter = CustomerFilter()
            for entry in filters {
                if let value = entry.value { try filter.set(entry.parameter, to: value) }
            }
            try filter.validate()
            var query = CustomerQuery(filter: filter)
            if let sort { query.sort = try CustomerSort(parsing: sort) }
            if let limit {
                guard let number = Int(limit), number >= 1 else {
                    throw CustomerSelectionError(parameter: "limit", "'\(limit)' is not a whole number ≥ 1")
                }
                query.limit = number
            }
            guard let format = CustomerFormat(rawValue: format) else {
                throw CustomerSelectionError(parameter: "format", "'\(format)' is not one of table, csv, jsonl")
            }
            return (query, format)
        } catch {
            let flag =
                filters.first { $0.parameter == error.parameter }?.flag
                ?? "--" + error.parameter.replacingOccurrences(of: "_", with: "-")
            var problem = error.problem
            // "is above max_orders" speaks of the other bound: by its flag here (only names with an underscore, so
            // words such as "tier" in a message stay words).
            for entry in filters where entry.parameter.contains("_") {
                problem = problem.replacingOccurrences(of: entry.parameter, with: entry.flag)
            }
            throw CommandFailure.usage("\(flag): \(problem)")
        }
    }

    func run() async throws {
        let (query, format) = try query()
        let destination = try Destination(path: output)
        let pool = try CommandEnvironment().pool()
        let progress = ExportProgress()
        let count: Int
        do {
            count = try await pool.withConnection { connection in
                try await CustomerList.export(
                    query,
                    format: format,
                    connection: connection,
                    // The bar needs a total, which costs a count: only for a person watching.
                    total: isatty(STDERR_FILENO) == 1 ? progress.start : nil,
                    progress: progress.update,
                    sink: destination.write
                )
            }
            try destination.finish()
        } catch {
            destination.abandon()
            await pool.close()
            throw error
        }
        await pool.close()
        let target = output.map { " to \($0)" } ?? ""
        FileHandle.standardError.write(Data("\(count) customer\(count == 1 ? "" : "s")\(target)\n".utf8))
    }
}

/// The progress bar of an export, once its total is known.
final class ExportProgress: Sendable {
    private let bar = Mutex<ProgressBar?>(nil)

    @Sendable func start(total: Int) {
        bar.withLock { $0 = ProgressBar(total: total, label: "customers") }
    }

    @Sendable func update(_ written: Int) {
        bar.withLock { $0 }?.update(written)
    }
}

/// Where an export goes: standard output, or a file that appears under its name only once complete (written
/// beside it under a temporary name, then renamed), so a failed export never leaves half a file that looks whole.
final class Destination: Sendable {
    private let handle: FileHandle
    private let path: String?
    private let temporary: String?

    init(path: String?) throws {
        guard let path else {
            handle = FileHandle.standardOutput
            self.path = nil
            temporary = nil
            return
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).partial").path
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
            let handle = FileHandle(forWritingAtPath: temporary)
        else { throw CommandFailure.usage("--output: cannot write \(path)") }
        self.handle = handle
        self.path = path
        self.temporary = temporary
    }

    @Sendable func write(_ bytes: [UInt8]) throws {
        try handle.write(contentsOf: bytes)
    }

    func finish() throws {
        guard let path, let temporary else { return }
        try handle.close()
        guard rename(temporary, path) == 0 else {
            throw CommandFailure.notFound("cannot move the export to \(path): \(String(cString: strerror(errno)))")
        }
    }

    func abandon() {
        guard let temporary else { return }
        try? handle.close()
        unlink(temporary)
    }
}
