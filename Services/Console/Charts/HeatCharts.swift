/// Heat maps: the nine-grid, the cohort triangle and the p_alive matrix.
enum HeatCharts {
    /// One nine-grid cell as the base report gives it.
    struct GridCell {
        var id: String
        var customers: Int
        var historicalTotal: Double
        var predictedTotal: Double
        var strategy: String
    }

    /// The nine-grid: value level (gold high … bronze low) down, the second axis (margin or trend) across; each
    /// cell shaded by its share of customers, with its count, strategy and value. Each cell's group carries
    /// `data-cell` and `data-customers`.
    static func nineGrid(_ html: inout HTML, cells: [String: GridCell]) {
        let levels = ["high", "mid", "low"]
        let columns = ["low", "mid", "high"]
        let size = 150.0
        let left = 86.0
        let top = 14.0
        let most = Double(cells.values.map(\.customers).max() ?? 0)
        html.svg(width: left + size * 3 + 10, height: top + size * 3 + 46, label: "Nine-grid of customers") { html in
            for (row, level) in levels.enumerated() {
                let y = top + Double(row) * size
                html.label(level, x: left - 12, y: y + size / 2 + 4, anchor: "end", size: 12, fill: Palette.axis)
                for (column, second) in columns.enumerated() {
                    let id = "\(level)-\(second)"
                    let cell =
                        cells[id]
                        ?? GridCell(
                            id: id,
                            customers: 0,
                            historicalTotal: 0,
                            predictedTotal: 0,
                            strategy: ""
                        )
                    let share = most > 0 ? Double(cell.customers) / most : 0
                    let x = left + Double(column) * size
                    let ink = Palette.ink(on: share)
                    html.element(
                        "a",
                        attributes: [
                            .init("href", "/console/customers?grid=\(id)"), .init("class", "grid-cell"),
                            .init("data-cell", id), .init("data-customers", String(cell.customers)),
                        ]
                    ) { html in
                        html.rect(
                            x: x + 2,
                            y: y + 2,
                            width: size - 4,
                            height: size - 4,
                            fill: Palette.shade(0.08 + share * 0.92),
                            radius: 6,
                            title: "value \(level), second axis \(second): \(Figures.count(cell.customers)) customers"
                        )
                        html.label(
                            Figures.count(cell.customers),
                            x: x + size / 2,
                            y: y + 56,
                            anchor: "middle",
                            size: 22,
                            fill: ink,
                            weight: "700"
                        )
                        html.label(
                            Figures.words(cell.strategy),
                            x: x + size / 2,
                            y: y + 80,
                            anchor: "middle",
                            size: 12,
                            fill: ink
                        )
                        html.label(
                            "hist. " + Figures.compact(cell.historicalTotal),
                            x: x + size / 2,
                            y: y + 104,
                            anchor: "middle",
                            size: 11,
                            fill: ink
                        )
                        html.label(
                            "pred. " + Figures.compact(cell.predictedTotal),
                            x: x + size / 2,
                            y: y + 120,
                            anchor: "middle",
                            size: 11,
                            fill: ink
                        )
                    }
                }
            }
            for (column, second) in columns.enumerated() {
                html.label(
                    second,
                    x: left + Double(column) * size + size / 2,
                    y: top + size * 3 + 18,
                    anchor: "middle",
                    size: 12,
                    fill: Palette.axis
                )
            }
            html.label(
                "second axis: margin or value trend →",
                x: left + size * 1.5,
                y: top + size * 3 + 38,
                anchor: "middle",
                size: 11,
                fill: Palette.muted
            )
            html.label("value ↓", x: 4, y: top + 10, size: 11, fill: Palette.muted)
        }
    }

    /// One cohort: its month, size and active counts by month since.
    struct Cohort {
        var month: String
        var customers: Int
        var active: [Int]
    }

    /// Cohorts as a triangle of shades: a row per month of first purchase, a column per month since, each cell the
    /// share of the cohort that bought that month. The newest `maximumRows` cohorts and `maximumColumns` months.
    static func cohortTriangle(
        _ html: inout HTML,
        cohorts all: [Cohort],
        maximumRows: Int = 24,
        maximumColumns: Int = 24
    ) {
        let cohorts = Array(all.suffix(maximumRows))
        let columns = min(maximumColumns, cohorts.map(\.active.count).max() ?? 0)
        guard !cohorts.isEmpty, columns > 0 else {
            html.element("p", .init("class", "empty"), text: "No cohorts yet.")
            return
        }
        let cell = max(18.0, min(34.0, 760.0 / Double(columns)))
        let rowHeight = 22.0
        let left = 130.0
        let top = 26.0
        let shares = cohorts.flatMap { cohort in
            cohort.active.dropFirst().map { cohort.customers > 0 ? Double($0) / Double(cohort.customers) : 0 }
        }
        // Month 0 is everyone by definition; the scale is set by the later months, so their differences show.
        let most = max(shares.max() ?? 0, 0.01)
        html.svg(
            width: left + cell * Double(columns) + 10,
            height: top + rowHeight * Double(cohorts.count) + 10,
            label: "Cohorts by month of first purchase"
        ) { html in
            for column in 0..<columns where columns <= 12 || column % 2 == 0 {
                html.label(
                    "+\(column)",
                    x: left + Double(column) * cell + cell / 2,
                    y: top - 8,
                    anchor: "middle",
                    size: 10,
                    fill: Palette.axis
                )
            }
            for (row, cohort) in cohorts.enumerated() {
                let y = top + Double(row) * rowHeight
                html.label(
                    "\(cohort.month)  (\(Figures.count(cohort.customers)))",
                    x: left - 8,
                    y: y + rowHeight / 2 + 4,
                    anchor: "end",
                    size: 11,
                    fill: Palette.axis
                )
                for (column, active) in cohort.active.prefix(columns).enumerated() {
                    let share = cohort.customers > 0 ? Double(active) / Double(cohort.customers) : 0
                    let scaled = column == 0 ? 1 : min(share / most, 1)
                    html.rect(
                        x: left + Double(column) * cell + 1,
                        y: y + 1,
                        width: cell - 2,
                        height: rowHeight - 2,
                        fill: Palette.shade(scaled),
                        radius: 2,
                        title: "\(cohort.month) +\(column) months: \(Figures.count(active)) of "
                            + "\(Figures.count(cohort.customers)) (\(Figures.percent(share)))"
                    )
                    if cell >= 30 && column > 0 {
                        html.label(
                            HTML.format(share * 100, decimals: share < 0.1 ? 1 : 0),
                            x: left + Double(column) * cell + cell / 2,
                            y: y + rowHeight / 2 + 4,
                            anchor: "middle",
                            size: 9,
                            fill: Palette.ink(on: scaled)
                        )
                    }
                }
            }
        }
    }

    /// A matrix of values in 0…1: rows top to bottom, columns left to right, with axis titles; used for p_alive by
    /// frequency and recency (lifetimes' plot_probability_alive_matrix).
    static func matrix(
        _ html: inout HTML,
        values: [[Double]],
        rowLabels: [String],
        columnLabels: [String],
        rowTitle: String,
        columnTitle: String,
        label: String
    ) {
        guard let first = values.first, !first.isEmpty else { return }
        let cell = max(10.0, min(26.0, 640.0 / Double(first.count)))
        let rowHeight = max(10.0, min(22.0, 440.0 / Double(values.count)))
        let left = 64.0
        let top = 24.0
        let width = left + cell * Double(first.count)
        html.svg(width: width + 90, height: top + rowHeight * Double(values.count) + 44, label: label) { html in
            for (row, rowValues) in values.enumerated() {
                let y = top + Double(row) * rowHeight
                if values.count <= 16 || row % 2 == 0 {
                    html.label(
                        rowLabels[row],
                        x: left - 6,
                        y: y + rowHeight / 2 + 4,
                        anchor: "end",
                        size: 10,
                        fill: Palette.axis
                    )
                }
                for (column, value) in rowValues.enumerated() {
                    html.rect(
                        x: left + Double(column) * cell,
                        y: y,
                        width: cell + 0.5,
                        height: rowHeight + 0.5,
                        fill: Palette.shade(value),
                        title: "\(rowTitle) \(rowLabels[row]), \(columnTitle) \(columnLabels[column]): "
                            + Figures.probability(value)
                    )
                }
            }
            let bottom = top + rowHeight * Double(values.count)
            let step = max(1, columnLabels.count / 10)
            for (column, text) in columnLabels.enumerated() where column % step == 0 {
                html.label(
                    text,
                    x: left + Double(column) * cell + cell / 2,
                    y: bottom + 14,
                    anchor: "middle",
                    size: 10,
                    fill: Palette.axis
                )
            }
            html.label(
                columnTitle + " →",
                x: left + cell * Double(first.count) / 2,
                y: bottom + 34,
                anchor: "middle",
                size: 11,
                fill: Palette.muted
            )
            html.label(rowTitle + " ↓", x: 4, y: 12, size: 10, fill: Palette.muted)
            // The colour scale.
            for step in 0..<10 {
                html.rect(
                    x: width + 24,
                    y: top + Double(9 - step) * 16,
                    width: 14,
                    height: 16,
                    fill: Palette.shade(Double(step) / 9 + 0.05)
                )
            }
            html.label("1", x: width + 44, y: top + 10, size: 10, fill: Palette.axis)
            html.label("0", x: width + 44, y: top + 160, size: 10, fill: Palette.axis)
        }
    }
}
