import Alerts
import CRMPostgres
import Foundation

/// Return rates of alerted customers against the control group, when the alerts carry a group and an observed
/// outcome (`retention_alerts.group`, `observed_outcome`, `returned_value`); nil while they do not.
struct ControlGroupFigures: Sendable {
    struct Group: Sendable {
        var name: String
        var alerts: Int
        var returned: Int
        var notReturned: Int
        var pending: Int
        var returnedValue: String

        /// returned ÷ (returned + not returned).
        var rate: Double? { returned + notReturned == 0 ? nil : Double(returned) / Double(returned + notReturned) }
        var decided: Int { returned + notReturned }
    }

    var groups: [Group]

    /// The uplift (alerted − control return rate) with its 95% interval (normal approximation).
    var uplift: (value: Double, low: Double, high: Double)? {
        guard let alerted = groups.first(where: { $0.name == "alerted" }),
            let control = groups.first(where: { $0.name == "control" }),
            let p1 = alerted.rate, let p2 = control.rate
        else { return nil }
        let error = (p1 * (1 - p1) / Double(alerted.decided) + p2 * (1 - p2) / Double(control.decided)).squareRoot()
        return (p1 - p2, p1 - p2 - 1.96 * error, p1 - p2 + 1.96 * error)
    }

    static func load(pool: PostgresPool) async throws -> ControlGroupFigures? {
        let columns = Set(
            try await pool.query(
                """
                SELECT column_name::text FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = 'retention_alerts'
                  AND column_name IN ('group', 'observed_outcome', 'returned_value')
                """
            ).compactMap { $0[0] }
        )
        guard columns.count == 3 else { return nil }
        let groups = try await pool.query(
            """
            SELECT "group", count(*), count(*) FILTER (WHERE observed_outcome = 'returned'),
                   count(*) FILTER (WHERE observed_outcome = 'not_returned'),
                   count(*) FILTER (WHERE observed_outcome = 'pending'),
                   coalesce(sum(returned_value), 0)::text
            FROM retention_alerts GROUP BY 1 ORDER BY 1
            """
        ).map { row in
            Group(
                name: try row.decode(0),
                alerts: try row.decode(1),
                returned: try row.decode(2),
                notReturned: try row.decode(3),
                pending: try row.decode(4),
                returnedValue: try row.decode(5)
            )
        }
        return ControlGroupFigures(groups: groups)
    }
}

/// `/console/retention`: the retention report (`crm status`'s alerts: by tier and reason, with the desks'
/// outcomes), and the uplift against the control group once alerts carry one.
enum RetentionPage {
    static func render(report: AlertsReport, control: ControlGroupFigures?, session: ConsoleSession) -> HTML {
        var html = HTML()
        Layout.write(into: &html, title: "Retention", current: .retention, session: session) { html in
            Layout.heading(&html, "Retention", "Retention alerts and what became of them.")
            html.element("div", .init("class", "figures")) { html in
                Layout.figure(&html, "Alerts raised", Figures.count(report.total.raised), id: "alerts-raised")
                Layout.figure(
                    &html,
                    "Open",
                    Figures.count(report.total.open),
                    note: "\(Figures.count(report.total.held)) held by the daily caps"
                )
                Layout.figure(
                    &html,
                    "Retained",
                    Figures.count(report.total.retained),
                    note: "\(Figures.count(report.total.lost)) lost"
                )
                Layout.figure(
                    &html,
                    "Retention rate",
                    Figures.percent(report.total.retentionRate),
                    note: "retained ÷ (retained + lost)"
                )
                if let sweep = report.lastSweep {
                    Layout.figure(
                        &html,
                        "Last sweep",
                        Figures.minute(Self.rfc3339(sweep.startedAt)),
                        note: "\(Figures.count(sweep.customers)) customers, \(Figures.count(sweep.alerts)) alerts"
                    )
                }
            }
            html.element("section", .init("class", "panel"), .init("id", "uplift")) { html in
                html.element("h2", text: "Uplift against the control group")
                guard let control, !control.groups.isEmpty else {
                    html.element(
                        "p",
                        .init("class", "empty"),
                        text: control == nil
                            ? "No control group is kept yet: these alerts carry no group and no observed outcome. "
                                + "Once alerts are split into alerted and control groups, their return rates and the "
                                + "uplift with its 95% interval appear here."
                            : "No alert has been evaluated into a group yet."
                    )
                    return
                }
                if let uplift = control.uplift {
                    html.element(
                        "p",
                        text: "Uplift \(Figures.percent(uplift.value)) (95% interval \(Figures.percent(uplift.low)) "
                            + "to \(Figures.percent(uplift.high))): the return rate of alerted customers minus the "
                            + "control group's."
                    )
                }
                lines(
                    &html,
                    headers: [
                        "group", "alerts", "returned", "not returned", "pending", "return rate", "returned value",
                    ],
                    rows: control.groups.map { group in
                        [
                            group.name, Figures.count(group.alerts), Figures.count(group.returned),
                            Figures.count(group.notReturned), Figures.count(group.pending), Figures.percent(group.rate),
                            Figures.money(group.returnedValue),
                        ]
                    }
                )
            }
            html.element("div", .init("class", "grid-2")) { html in
                html.element("section", .init("class", "panel"), .init("id", "by-tier")) { html in
                    html.element("h2", text: "By tier")
                    outcomeTable(&html, report.byTier)
                }
                html.element("section", .init("class", "panel"), .init("id", "by-reason")) { html in
                    html.element("h2", text: "By reason")
                    outcomeTable(&html, report.byReason)
                }
            }
        }
        return html
    }

    private static func outcomeTable(_ html: inout HTML, _ lines: [AlertsReport.Line]) {
        guard !lines.isEmpty else {
            html.element("p", .init("class", "empty"), text: "No alert raised yet.")
            return
        }
        Self.lines(
            &html,
            headers: ["", "raised", "open", "retained", "lost", "not contacted", "rate"],
            rows: lines.map { line in
                [
                    Figures.words(line.key), Figures.count(line.raised), Figures.count(line.open),
                    Figures.count(line.retained), Figures.count(line.lost), Figures.count(line.notContacted),
                    Figures.percent(line.retentionRate),
                ]
            }
        )
    }

    private static func lines(_ html: inout HTML, headers: [String], rows: [[String]]) {
        html.element("div", .init("class", "table-scroll")) { html in
            html.element("table") { html in
                html.element("thead") { html in
                    html.element("tr") { html in
                        for (index, header) in headers.enumerated() {
                            html.element("th", .init("class", index > 0 ? "num" : nil), text: header)
                        }
                    }
                }
                html.element("tbody") { html in
                    for row in rows {
                        html.element("tr") { html in
                            for (index, value) in row.enumerated() {
                                html.element("td", .init("class", index > 0 ? "num" : nil), text: value)
                            }
                        }
                    }
                }
            }
        }
    }

    static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }
}
