import CRMSupport
import Foundation
import Scoring

/// `/console/customers/ID`: one customer — figures, RFM, value and p_alive over time, and the timeline of orders,
/// stage changes, alerts, complaints and flags.
enum CustomerPage {
    /// The page's path for a customer id (percent-encoded: ids are any text).
    static func path(_ customerID: String) -> String {
        "/console/customers/" + Cookies.percentEncoded(customerID)
    }

    static func render(_ details: CustomerDetails, session: ConsoleSession) -> HTML {
        var html = HTML()
        let object = details.object
        func text(_ key: String) -> String? { object[key].flatMap(Self.text) }
        let id = text("customer_id") ?? ""
        Layout.write(into: &html, title: "Customer", current: .customer, session: session) { html in
            html.element("h1", .init("id", "customer-id"), text: id)
            html.element("p", .init("class", "subtitle")) { html in
                if let name = details.name {
                    html.element("span", .init("id", "customer-name"), text: name)
                    html.markup(" · ")
                }
                html.element("span", .init("class", "tag \(text("tier") ?? "")"), text: text("tier") ?? "–")
                html.markup(" ")
                html.element("span", .init("class", "tag"), text: Figures.words(text("lifecycle_stage") ?? "–"))
                for flag in object["flags"] as? [String] ?? [] {
                    html.markup(" ")
                    html.element("span", .init("class", "tag flag"), text: Figures.words(flag))
                }
                html.markup(" ")
                html.element(
                    "span",
                    .init("class", "muted"),
                    text: [text("region"), text("type")].compactMap { $0 }.joined(separator: " · ")
                )
            }
            figures(&html, object)
            html.element("div", .init("class", "grid-2")) { html in
                html.element("section", .init("class", "panel"), .init("id", "value-chart")) { html in
                    html.element("h2", text: "Value over time")
                    LineChart.draw(
                        &html,
                        points: valuePoints(details.events),
                        color: Palette.value,
                        label: "Cumulative net spend",
                        step: true,
                        until: details.model?.asOf,
                        format: Figures.compact
                    )
                    html.element("div", .init("class", "legend")) { html in
                        html.element("span", .init("class", "value"), text: "net spend to date (base currency)")
                    }
                }
                html.element("section", .init("class", "panel"), .init("id", "alive-chart")) { html in
                    html.element("h2", text: "p_alive over time")
                    if let model = details.model {
                        LineChart.draw(
                            &html,
                            points: aliveHistory(details.events, model: model),
                            color: Palette.alive,
                            label: "Probability alive over time",
                            maximum: 1,
                            format: { HTML.format($0, decimals: 2) }
                        )
                        html.element("div", .init("class", "legend")) { html in
                            html.element(
                                "span",
                                .init("class", "alive"),
                                text: "P(alive) by the current \(type(of: model.model).kind.displayName) model at each "
                                    + "date, from the purchases up to it"
                            )
                        }
                    } else {
                        html.element("p", .init("class", "empty"), text: "No purchase model fitted yet.")
                    }
                }
            }
            html.element("div", .init("class", "grid-2")) { html in
                html.element("section", .init("class", "panel"), .init("id", "rfm")) { html in
                    html.element("h2", text: "RFM and value")
                    facts(&html, object)
                }
                html.element("section", .init("class", "panel"), .init("id", "history")) { html in
                    html.element("h2", text: "Stage and tier changes")
                    changes(&html, object["history"] as? [[String: Any]] ?? [])
                }
            }
            html.element("section", .init("class", "panel"), .init("id", "timeline")) { html in
                html.element("h2", text: "Timeline")
                timeline(&html, details.events)
            }
        }
        return html
    }

    // MARK: - Parts

    private static func figures(_ html: inout HTML, _ object: [String: Any]) {
        let clv = object["clv"] as? [String: Any] ?? [:]
        html.element("div", .init("class", "figures")) { html in
            Layout.figure(
                &html,
                "Orders",
                text(object["orders_count"]) ?? "0",
                note: "\(text(object["transactions"]) ?? "0") purchase days"
            )
            Layout.figure(
                &html,
                "Total",
                Figures.money(text(object["monetary_total"])),
                note: "net of refunds",
                id: "customer-total"
            )
            Layout.figure(&html, "Historical value", Figures.money(text(clv["historical"])))
            Layout.figure(&html, "Predicted value", Figures.money(text(clv["predicted"])))
            Layout.figure(
                &html,
                "p_alive",
                Figures.probability(ModelSummary.number(object["p_alive"])),
                note:
                    "expected \(HTML.format(ModelSummary.number(object["expected_purchases_90d"]) ?? 0, decimals: 2)) orders in 90 days"
            )
            Layout.figure(
                &html,
                "Last order",
                Figures.date(text(object["last_order_at"])),
                note: ModelSummary.number(object["recency_days"]).map { "\(HTML.format($0)) days before the scoring" }
            )
        }
    }

    private static func facts(_ html: inout HTML, _ object: [String: Any]) {
        let rfm = object["rfm"] as? [String: Any]
        let clv = object["clv"] as? [String: Any] ?? [:]
        let rows: [(String, String)] = [
            (
                "R · F · M",
                rfm.map { "\(text($0["r"]) ?? "–") · \(text($0["f"]) ?? "–") · \(text($0["m"]) ?? "–")" } ?? "–"
            ),
            ("RFM segment", Figures.words(rfm.flatMap { text($0["segment"]) } ?? "–")),
            ("Nine-grid cell", text(object["grid"]) ?? "–"),
            ("Strategy", Figures.words(text(object["strategy"]) ?? "–")),
            ("Stage rule", text(object["lifecycle_rule"]) ?? "–"),
            ("Simple CLV", Figures.money(text(clv["simple"]))),
            ("Average order", Figures.money(text(object["monetary_average"]))),
            ("Margin rate", Figures.percent(ModelSummary.number(object["margin_rate"]))),
            (
                "Expected interval",
                ModelSummary.number(object["expected_interval_days"]).map { "\(HTML.format($0, decimals: 1)) days" }
                    ?? "–"
            ),
            ("First order", Figures.date(text(object["first_order_at"]))),
            ("Open alerts", text(object["open_alerts"]) ?? "0"),
            ("Open complaints", text(object["open_complaints"]) ?? "0"),
            ("Scored", Figures.minute(text(object["scored_at"]))),
        ]
        html.element("dl", .init("class", "facts")) { html in
            for (term, value) in rows {
                html.element("dt", text: term)
                html.element("dd", text: value)
            }
        }
    }

    private static func changes(_ html: inout HTML, _ history: [[String: Any]]) {
        guard !history.isEmpty else {
            html.element("p", .init("class", "empty"), text: "No change of stage or tier recorded.")
            return
        }
        html.element("table") { html in
            html.element("thead") { html in
                html.element("tr") { html in
                    for title in ["when", "stage", "tier", "p_alive"] { html.element("th", text: title) }
                }
            }
            html.element("tbody") { html in
                for change in history.suffix(20).reversed() {
                    html.element("tr") { html in
                        html.element("td", text: Figures.date(text(change["changed_at"])))
                        html.element(
                            "td",
                            text: arrow(text(change["previous_lifecycle_stage"]), text(change["lifecycle_stage"]))
                        )
                        html.element("td", text: arrow(text(change["previous_tier"]), text(change["tier"])))
                        html.element("td", text: Figures.probability(ModelSummary.number(change["p_alive"])))
                    }
                }
            }
        }
    }

    private static func arrow(_ before: String?, _ after: String?) -> String {
        guard let before, before != after else { return after ?? "–" }
        return "\(before) → \(after ?? "–")"
    }

    private static func timeline(_ html: inout HTML, _ events: [[String: Any]]) {
        guard !events.isEmpty else {
            html.element("p", .init("class", "empty"), text: "Nothing recorded.")
            return
        }
        let shown = events.suffix(200)
        if shown.count < events.count {
            html.element("p", .init("class", "muted"), text: "The newest 200 of \(events.count) events.")
        }
        html.element("ol", .init("class", "timeline")) { html in
            for event in shown.reversed() {
                let type = text(event["type"]) ?? ""
                html.element("li", .init("data-type", type)) { html in
                    html.element("span", .init("class", "when"), text: Figures.minute(text(event["at"])))
                    let (kind, detail) = describe(event, type: type)
                    html.element(
                        "span",
                        .init("class", "kind \(kind)"),
                        text: Figures.words(type == "order" ? (text(event["kind"]) ?? type) : type)
                    )
                    html.element("span", text: detail)
                }
            }
        }
    }

    /// The class and the one-line description of a timeline event.
    private static func describe(_ event: [String: Any], type: String) -> (String, String) {
        func value(_ key: String) -> String? { text(event[key]) }
        switch type {
        case "order":
            let held = (event["held"] as? Bool) == true ? " (held until its purchase arrives)" : ""
            return (
                value("kind") == "refund" ? "refund" : "order",
                "\(value("order_id") ?? "") · \(Figures.money(value("amount"))) \(value("currency") ?? "")"
                    + (value("channel").map { " · \($0)" } ?? "") + held
            )
        case "score_change":
            return (
                "score",
                "stage \(arrow(value("previous_lifecycle_stage"), value("lifecycle_stage"))) (\(value("lifecycle_rule") ?? "")), "
                    + "tier \(arrow(value("previous_tier"), value("tier")))"
            )
        case "alert":
            let reasons = (event["reasons"] as? [String] ?? []).map(Figures.words).joined(separator: ", ")
            return (
                "alert",
                "\(value("priority") ?? "") · \(reasons) · at risk \(Figures.money(value("value_at_risk"))) · \(value("status") ?? "")"
            )
        case "alert_feedback":
            return (
                "alert",
                "\(value("status") ?? "")\(value("outcome").map { " · \($0)" } ?? "")\(value("agent").map { " · \($0)" } ?? "")"
            )
        case "complaint":
            return (
                "complaint",
                "\(value("complaint_id") ?? "") · \(value("subject") ?? "") · \(value("category") ?? "") · "
                    + "\(value("severity") ?? "") · desk \(value("desk") ?? "")"
            )
        case "complaint_status":
            return (
                "complaint",
                "\(value("complaint_id") ?? "") \(value("status") ?? "")"
                    + (value("satisfaction").map { " · satisfaction \($0)/5" } ?? "")
            )
        default:
            return ("flag", "\(value("flag") ?? "")\(value("note").map { " · \($0)" } ?? "")")
        }
    }

    // MARK: - Series

    /// Net spend to date after each order (refunds lower it; held refunds do not count yet).
    static func valuePoints(_ events: [[String: Any]]) -> [LineChart.Point] {
        var total = 0.0
        var points: [LineChart.Point] = []
        for event in events where text(event["type"]) == "order" && (event["held"] as? Bool) != true {
            guard let at = ModelSummary.date(event["at"]), let amount = ModelSummary.number(event["amount_base"]) else {
                continue
            }
            total += text(event["kind"]) == "refund" ? -amount : amount
            points.append(.init(time: at, value: max(total, 0)))
        }
        return points
    }

    /// P(alive) as the model would have said at each date from the first purchase to the model's as-of time, from
    /// the purchases up to that date (lifetimes' plot_history_alive): about 120 points.
    static func aliveHistory(
        _ events: [[String: Any]],
        model: (model: any PurchaseModel, unitDays: Double, asOf: Date)
    ) -> [LineChart.Point] {
        let purchases: [TransactionSummary.Purchase] = events.compactMap { event in
            guard text(event["type"]) == "order", text(event["kind"]) == "purchase", (event["held"] as? Bool) != true,
                let at = ModelSummary.date(event["at"])
            else { return nil }
            return .init(day: Int((at.timeIntervalSince1970 / 86_400).rounded(.down)), amount: 0)
        }.sorted { $0.day < $1.day }
        guard let first = purchases.first?.day else { return [] }
        let end = Int((model.asOf.timeIntervalSince1970 / 86_400).rounded(.down))
        guard end >= first else { return [] }
        let step = max(1, (end - first) / 120)
        var points: [LineChart.Point] = []
        var day = first
        while day <= end {
            if let summary = TransactionSummary(
                purchases: purchases,
                asOfDay: day,
                unit: TimeUnit(days: model.unitDays)
            ) {
                let alive = model.model.probabilityAlive(x: summary.frequency, tx: summary.recency, T: summary.age)
                points.append(.init(time: Date(timeIntervalSince1970: Double(day) * 86_400), value: alive))
            }
            day = day == end ? end + 1 : min(day + step, end)
        }
        return points
    }

    static func text(_ value: Any?) -> String? {
        switch value {
        case let text as String: text
        case let number as NSNumber: number.stringValue
        default: nil
        }
    }
}
