import ArgumentParser
import CRMContract
import Foundation
import Scoring

/// `crm report`: the whole base as of the last full rescoring, read from the one row that rescoring stored.
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe the whole base as of the last full rescoring: value, concentration, cohorts, moves.",
        discussion: """
            Every full rescoring computes the report from what it holds and stores it; this reads that one row, \
            whatever the size of the base. Customers, value and cohorts count the customers with purchases; \
            stages, tiers and transitions every scored customer. Cohorts are by month of first purchase (UTC): \
            each row gives the share of the cohort that bought in each month after its first.
            """
    )

    @Flag(help: "Print the report as one JSON object.")
    var json = false

    func run() async throws {
        let pool = try CommandEnvironment().pool()
        let text: String?
        do {
            text = try await BaseReportStore.latestJSON(pool: pool)
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
        guard let text else { throw CommandFailure.notFound("no base report yet: run crm rescore") }
        if json {
            print(text)
            return
        }
        let report: BaseReport
        do {
            report = try JSONDecoder().decode(BaseReport.self, from: Data(text.utf8))
        } catch {
            throw CommandFailure.notFound("the stored base report does not decode: \(error)")
        }
        print(ReportText(report).text, terminator: "")
    }
}

/// The human form of a base report: figures, then tables.
struct ReportText {
    let report: BaseReport
    init(_ report: BaseReport) { self.report = report }

    /// Shown months of the cohort triangle: a wider one does not fit a terminal.
    static let cohortMonthsShown = 24

    var text: String {
        var lines: [String] = []
        let value = report.value
        lines.append("Base as of \(report.asOf.rfc3339) (model \(report.modelID.map(String.init) ?? "–"))")
        lines.append(
            "  customers      \(report.customers) with purchases (\(report.scored) scored); "
                + "\(report.repeatCustomers) repeat (\(percent(report.repeatRate)))"
        )
        lines.append(
            "  value          historical \(value.historicalTotal), predicted \(value.predictedTotal ?? "–")"
        )
        lines.append(
            "  concentration  top 20% hold \(percent(value.top20Share)) of historical value; Gini "
                + String(format: "%.3f", value.gini)
        )
        if let forecast = report.forecast90d {
            lines.append(
                "  next 90 days   " + String(format: "%.1f", forecast.transactions) + " transactions, revenue "
                    + (forecast.revenue ?? "–")
            )
        } else {
            lines.append("  next 90 days   – (no fitted model)")
        }
        lines.append("")
        lines += table(
            ["stage", "customers"],
            LifecycleStage.allCases.map { [$0.rawValue, String(report.stages[$0.rawValue] ?? 0)] }
        )
        lines.append("")
        lines += table(
            ["tier", "customers"],
            ValueTier.allCases.reversed().map { [$0.rawValue, String(report.tiers[$0.rawValue] ?? 0)] }
        )
        lines.append("")
        lines += table(
            ["cell", "customers", "historical", "predicted", "strategy"],
            report.grid.keys.sorted(by: gridOrder).map { key in
                let cell = report.grid[key]!
                return [key, String(cell.customers), cell.historicalTotal, cell.predictedTotal, cell.strategy]
            }
        )
        lines.append("")
        lines += transitions
        lines.append("")
        lines += cohorts
        return lines.joined(separator: "\n") + "\n"
    }

    private var transitions: [String] {
        guard let moves = report.transitions else {
            return ["Transitions: none yet (this is the first full rescoring with a report)."]
        }
        var lines = ["Transitions since the full rescoring as of \(moves.previousAsOf.rfc3339) (rows from, columns to)"]
        let tiers = ValueTier.allCases.reversed().map(\.rawValue)
        lines += matrix(moves.tiers, names: tiers)
        lines.append("")
        lines += matrix(moves.stages, names: LifecycleStage.allCases.map(\.rawValue))
        lines.append("")
        lines.append("  gold entered \(moves.goldEntered), gold left \(moves.goldLeft)")
        for (title, movers) in [("entered gold", moves.goldEntrants), ("left gold", moves.goldLeavers)]
        where !movers.isEmpty {
            lines.append("  most valuable who \(title):")
            lines += table(
                ["customer", "from", "to", "stage", "rule", "predicted"],
                movers.map {
                    [
                        $0.customerID, $0.previousTier ?? "new", $0.tier, $0.lifecycleStage, $0.lifecycleRule,
                        $0.clvPredicted ?? "–",
                    ]
                }
            ).map { "  " + $0 }
        }
        return lines
    }

    private var cohorts: [String] {
        guard !report.cohorts.isEmpty else { return ["Cohorts: none"] }
        let months = min(report.cohorts.map(\.active.count).max() ?? 0, Self.cohortMonthsShown)
        var lines = [
            "Cohorts by month of first purchase: share of the cohort buying k months later"
                + (months < (report.cohorts.map(\.active.count).max() ?? 0) ? " (first \(months) months)" : "")
        ]
        let header = ["cohort", "customers"] + (0..<months).map { "+\($0)" }
        let rows = report.cohorts.map { cohort in
            [cohort.month, String(cohort.customers)]
                + (0..<months).map { k in
                    k < cohort.active.count && cohort.customers > 0
                        ? String(format: "%.0f%%", 100 * Double(cohort.active[k]) / Double(cohort.customers)) : ""
                }
        }
        lines += table(header, rows)
        return lines
    }

    private func matrix(_ moves: [String: [String: Int]], names: [String]) -> [String] {
        let rows = (names + ["new"]).filter { moves[$0] != nil }.map { from in
            [from] + names.map { to in moves[from]?[to].map(String.init) ?? "" }
        }
        return table(["from \\ to"] + names, rows)
    }

    private func gridOrder(_ a: String, _ b: String) -> Bool {
        let levels = ["high", "mid", "low"]
        func rank(_ id: String) -> Int {
            let parts = id.split(separator: "-").map(String.init)
            return (levels.firstIndex(of: parts.first ?? "") ?? 3) * 3 + (levels.firstIndex(of: parts.last ?? "") ?? 3)
        }
        return rank(a) < rank(b)
    }

    private func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }

    /// Columns padded to their widest value; the first left-aligned, the others right-aligned.
    private func table(_ header: [String], _ rows: [[String]]) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            var cells: [String] = []
            for (column, value) in row.enumerated() {
                let padding = String(repeating: " ", count: max(widths[column] - value.count, 0))
                cells.append(column == 0 ? value + padding : padding + value)
            }
            let line = "  " + cells.joined(separator: "  ")
            return String(line[..<(line.lastIndex { $0 != " " }.map(line.index(after:)) ?? line.startIndex)])
        }
    }
}
