import CRMSupport
import Complaints

/// `/console/desks`: per desk, from the complaints it was routed — open now, open and breached, open and escalated,
/// the share of SLA targets met, and the mean time to the first response.
enum DesksPage {
    static func render(desks: [DeskFigures], session: ConsoleSession) -> HTML {
        var html = HTML()
        Layout.write(into: &html, title: "Desks", current: .desks, session: session) { html in
            Layout.heading(
                &html,
                "Desks",
                "Support desks by the complaints routed to them, all time; open figures are now."
            )
            guard !desks.isEmpty else {
                Layout.missing(&html, "No complaints yet", "No complaint has been routed to a desk on this database.")
                return
            }
            let open = desks.reduce(0) { $0 + $1.open }
            let breached = desks.reduce(0) { $0 + $1.breachedOpen }
            let met = desks.reduce(0) { $0 + $1.targetsMet }
            let decided = met + desks.reduce(0) { $0 + $1.targetsBreached }
            html.element("div", .init("class", "figures")) { html in
                Layout.figure(&html, "Open complaints", Figures.count(open))
                Layout.figure(&html, "Open and breached", Figures.count(breached))
                Layout.figure(
                    &html,
                    "SLA attainment",
                    Figures.percent(decided == 0 ? nil : Double(met) / Double(decided)),
                    note: "targets met of those decided"
                )
                Layout.figure(&html, "Desks", Figures.count(desks.count))
            }
            html.element("section", .init("class", "panel"), .init("id", "attainment")) { html in
                html.element("h2", text: "SLA attainment by desk")
                BarCharts.shares(
                    &html,
                    rows: desks.map { ($0.desk, $0.attainment) },
                    label: "SLA attainment by desk"
                )
            }
            html.element("section", .init("class", "panel")) { html in
                html.element("div", .init("class", "table-scroll")) { html in
                    html.element("table", .init("class", "sortable"), .init("id", "desks")) { html in
                        html.element("thead") { html in
                            html.element("tr") { html in
                                html.element("th", .init("data-sort", "text"), text: "desk")
                                for title in [
                                    "complaints", "open", "breached", "escalated", "SLA attainment",
                                    "mean first response",
                                ] {
                                    html.element("th", .init("class", "num"), .init("data-sort", "number"), text: title)
                                }
                            }
                        }
                        html.element("tbody") { html in
                            for desk in desks {
                                html.element("tr", .init("data-desk", desk.desk)) { html in
                                    html.element("td", text: desk.desk)
                                    number(&html, desk.complaints)
                                    number(&html, desk.open)
                                    number(&html, desk.breachedOpen)
                                    number(&html, desk.escalatedOpen)
                                    html.element(
                                        "td",
                                        .init("class", "num"),
                                        .init("data-value", desk.attainment.map { HTML.format($0, decimals: 4) } ?? ""),
                                        text: Figures.percent(desk.attainment)
                                    )
                                    html.element(
                                        "td",
                                        .init("class", "num"),
                                        .init(
                                            "data-value",
                                            desk.meanFirstResponseSeconds.map { HTML.format($0) } ?? ""
                                        ),
                                        text: Figures.duration(seconds: desk.meanFirstResponseSeconds)
                                    )
                                }
                            }
                        }
                    }
                }
                html.element(
                    "p",
                    .init("class", "muted"),
                    text: "Breached and escalated count open complaints. SLA attainment: first-response and resolution "
                        + "targets met among those decided. Mean first response: receipt to the first acknowledgement."
                )
            }
        }
        return html
    }

    private static func number(_ html: inout HTML, _ value: Int) {
        html.element("td", .init("class", "num"), .init("data-value", String(value)), text: Figures.count(value))
    }
}
