import Alerts
import CRMContract
import CRMPostgres
import Foundation

/// `/console/retention`: the retention report of `crm retention` (return rates of the alerted and control groups
/// from the orders, the uplift with its 95% interval, lost customers by cause and tier), and `crm status`'s alerts by
/// tier and reason with the desks' outcomes.
enum RetentionPage {
    static func render(report: AlertsReport, control: RetentionReport, session: ConsoleSession) -> HTML {
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
                guard control.groups.contains(where: { $0.alerts > 0 }) else {
                    html.element("p", .init("class", "empty"), text: "No alert raised yet.")
                    return
                }
                if let uplift = control.uplift {
                    html.element(
                        "p",
                        text: "Uplift \(Figures.percent(uplift.estimate)) (95% interval \(Figures.percent(uplift.low)) "
                            + "to \(Figures.percent(uplift.high))): the return rate of alerted customers minus the "
                            + "control group's."
                    )
                } else {
                    html.element(
                        "p",
                        text: "No uplift yet: each group needs an alert whose outcome window has passed or whose "
                            + "customer came back."
                    )
                }
                if let caution = control.caution {
                    html.element(
                        "p",
                        .init("class", "caution"),
                        .init("id", "uplift-caution"),
                        text: "Caution: \(caution)."
                    )
                }
                lines(
                    &html,
                    headers: [
                        "group", "alerts", "returned", "not returned", "pending", "return rate", "returned value",
                    ],
                    rows: control.groups.map { group in
                        [
                            group.group.rawValue, Figures.count(group.alerts), Figures.count(group.returned),
                            Figures.count(group.notReturned), Figures.count(group.pending),
                            Figures.percent(group.returnRate),
                            Figures.money(RetentionReport.money(group.returnedValue)),
                        ]
                    }
                )
            }
            html.element("section", .init("class", "panel"), .init("id", "lost")) { html in
                html.element("h2", text: "Lost customers by cause")
                guard !control.lost.isEmpty else {
                    html.element("p", .init("class", "empty"), text: "No customer reported lost yet.")
                    return
                }
                html.element(
                    "p",
                    text: "\(Figures.count(control.lostCustomers)) lost; service failure "
                        + "\(Figures.percent(control.serviceFailureShare)) of those with a known cause."
                )
                let tiers = ValueTier.allCases.sorted(by: >).map(\.rawValue)
                lines(
                    &html,
                    headers: ["cause", "customers"] + tiers,
                    rows: control.lost.map { cause in
                        [Figures.words(cause.cause), Figures.count(cause.customers)]
                            + tiers.map { Figures.count(cause.byTier[$0] ?? 0) }
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
