import CRMContract
import CRMSupport
import Scoring

/// `/console/`: the base report of the last full rescoring — figures, the nine-grid as a heat map, the stages as a
/// funnel, the tiers, the cohorts as a triangle of shades. It reads the one stored report row, whatever the size
/// of the base.
enum OverviewPage {
    static func render(report: BaseReport?, session: ConsoleSession) -> HTML {
        var html = HTML()
        Layout.write(into: &html, title: "Overview", current: .overview, session: session) { html in
            guard let report else {
                Layout.heading(&html, "Overview", nil)
                Layout.missing(
                    &html,
                    "No base report yet",
                    "The report is written by every full rescoring (crm rescore, or crm-scoring's schedule). "
                        + "None has run on this database yet."
                )
                return
            }
            Layout.heading(
                &html,
                "Overview",
                "The whole base as of \(Figures.minute(report.asOf.rfc3339)) UTC (last full rescoring)"
            )
            figures(&html, report)
            html.element("div", .init("class", "grid-2")) { html in
                html.element("section", .init("class", "panel"), .init("id", "nine-grid")) { html in
                    html.element("h2", text: "Nine-grid")
                    HeatCharts.nineGrid(
                        &html,
                        cells: report.grid.mapValues { cell in
                            HeatCharts.GridCell(
                                id: "",
                                customers: cell.customers,
                                historicalTotal: Double(cell.historicalTotal) ?? 0,
                                predictedTotal: Double(cell.predictedTotal) ?? 0,
                                strategy: cell.strategy
                            )
                        }
                    )
                    html.element(
                        "p",
                        .init("class", "muted"),
                        text: "Rows: value tier (gold high, silver mid, bronze low). Columns: margin rate where "
                            + "orders carry cost, else the value trend. A cell opens its customers."
                    )
                }
                html.element("div", .init("class", "stack")) { html in
                    html.element("section", .init("class", "panel"), .init("id", "tiers")) { html in
                        html.element("h2", text: "Tiers")
                        BarCharts.tiers(
                            &html,
                            tiers: ValueTier.allCases.sorted(by: >).map {
                                ($0.rawValue, report.tiers[$0.rawValue] ?? 0)
                            }
                        )
                    }
                    html.element("section", .init("class", "panel"), .init("id", "stages")) { html in
                        html.element("h2", text: "Lifecycle")
                        BarCharts.funnel(
                            &html,
                            stages: LifecycleStage.allCases.map { ($0.rawValue, report.stages[$0.rawValue] ?? 0) }
                        )
                    }
                }
            }
            html.element("section", .init("class", "panel"), .init("id", "cohorts")) { html in
                html.element("h2", text: "Cohorts")
                html.element(
                    "p",
                    .init("class", "muted"),
                    text: "A row per month of first purchase; each cell the share of that cohort buying in the k-th "
                        + "month after it (darker: more). Hover a cell for its count."
                )
                HeatCharts.cohortTriangle(
                    &html,
                    cohorts: report.cohorts.map { .init(month: $0.month, customers: $0.customers, active: $0.active) }
                )
            }
            if let transitions = report.transitions { moves(&html, transitions) }
        }
        return html
    }

    private static func figures(_ html: inout HTML, _ report: BaseReport) {
        html.element("div", .init("class", "figures")) { html in
            Layout.figure(
                &html,
                "Customers",
                Figures.count(report.customers),
                note: "with purchases",
                id: "figure-customers"
            )
            Layout.figure(
                &html,
                "Repeat customers",
                Figures.count(report.repeatCustomers),
                note: "repeat rate \(Figures.percent(report.repeatRate))"
            )
            Layout.figure(&html, "Historical value", Figures.money(report.value.historicalTotal))
            Layout.figure(&html, "Predicted value", Figures.money(report.value.predictedTotal))
            Layout.figure(
                &html,
                "Top 20% share",
                Figures.percent(report.value.top20Share),
                note: "Gini \(HTML.format(report.value.gini, decimals: 3))"
            )
            if let forecast = report.forecast90d {
                Layout.figure(
                    &html,
                    "Next 90 days",
                    Figures.count(Int(forecast.transactions.rounded())) + " orders",
                    note: "revenue \(Figures.money(forecast.revenue))"
                )
            } else {
                Layout.figure(&html, "Next 90 days", "–", note: "no purchase model fitted")
            }
        }
    }

    private static func moves(_ html: inout HTML, _ transitions: BaseReport.Transitions) {
        html.element("section", .init("class", "panel"), .init("id", "moves")) { html in
            html.element("h2", text: "Since the previous full rescoring")
            html.element(
                "p",
                text: "\(Figures.count(transitions.goldEntered)) customers entered gold and "
                    + "\(Figures.count(transitions.goldLeft)) left it since "
                    + "\(Figures.minute(transitions.previousAsOf.rfc3339))."
            )
            // The ten most valuable of each direction; `crm report --json` has the rest.
            let movers =
                transitions.goldEntrants.prefix(10).map { ("entered", $0) }
                + transitions.goldLeavers.prefix(10).map { ("left", $0) }
            guard !movers.isEmpty else { return }
            html.element("div", .init("class", "table-scroll")) { html in
                html.element("table", .init("class", "sortable")) { html in
                    html.element("thead") { html in
                        html.element("tr") { html in
                            html.element("th", .init("data-sort", "text"), text: "gold")
                            html.element("th", .init("data-sort", "text"), text: "customer")
                            html.element("th", .init("data-sort", "text"), text: "stage")
                            html.element("th", .init("data-sort", "text"), text: "rule")
                            html.element("th", .init("class", "num"), .init("data-sort", "number"), text: "predicted")
                        }
                    }
                    html.element("tbody") { html in
                        for (direction, mover) in movers {
                            html.element("tr") { html in
                                html.element("td", text: direction)
                                html.element("td") { html in
                                    html.element(
                                        "a",
                                        .init("href", CustomerPage.path(mover.customerID)),
                                        text: mover.customerID
                                    )
                                }
                                html.element("td", text: mover.lifecycleStage)
                                html.element("td", text: mover.lifecycleRule)
                                html.element(
                                    "td",
                                    .init("class", "num"),
                                    .init("data-value", mover.clvPredicted ?? ""),
                                    text: Figures.money(mover.clvPredicted)
                                )
                            }
                        }
                    }
                }
            }
        }
    }
}
