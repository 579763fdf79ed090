import CRMContract
import Scoring

/// `/console/customers?FILTERS`: the segment browser. The filters of `crm customers` (query parameters named as
/// in `GET /customers`), a sort, keyset pages of ``ConsoleConfiguration/pageSize``, and a link to the whole
/// selection as CSV (`/console/customers.csv?FILTERS`, streamed, the same bytes as `crm customers --format csv`).
enum CustomersPage {
    /// The query parameters of a request without the empty ones a form sends for fields left blank, and without
    /// `limit` (the console sets the page size).
    static func parameters(_ items: [(name: String, value: String)]) -> [(name: String, value: String)] {
        items.filter { !$0.value.isEmpty && $0.name != "limit" }
    }

    /// The page; `problem` names a parameter that cannot be used (the form is shown again with it).
    static func render(
        parameters: [(name: String, value: String)],
        customers: [CustomerRecord],
        next: CustomerCursor?,
        problem: CustomerSelectionError?,
        session: ConsoleSession
    ) -> HTML {
        var html = HTML()
        let given = Dictionary(parameters.map { ($0.name, $0.value) }) { first, _ in first }
        Layout.write(into: &html, title: "Customers", current: .customers, session: session) { html in
            Layout.heading(
                &html,
                "Customers",
                "Scored customers, filtered as with crm customers; pages of keyset order."
            )
            html.element("section", .init("class", "panel")) { html in
                form(&html, given)
            }
            if let problem {
                html.element("p", .init("class", "message"), .init("id", "problem"), text: problem.description)
                return
            }
            html.element("section", .init("class", "panel")) { html in
                table(&html, customers)
                html.element("div", .init("class", "pager")) { html in
                    let filters = parameters.filter { $0.name != "after" }
                    html.element("span", text: customers.isEmpty ? "No customer matches." : "\(customers.count) shown")
                    html.element("span") { html in
                        if given["after"] != nil {
                            html.element(
                                "a",
                                .init("class", "button secondary"),
                                .init("href", link(filters)),
                                text: "First page"
                            )
                            html.markup(" ")
                        }
                        if session.role.allows(.export) {
                            html.element(
                                "a",
                                .init("class", "button secondary"),
                                .init("id", "csv-download"),
                                .init("href", "/console/customers.csv" + query(filters)),
                                .init("download", "customers.csv"),
                                text: "Download CSV (whole selection)"
                            )
                            html.markup(" ")
                        }
                        if let next {
                            html.element(
                                "a",
                                .init("class", "button"),
                                .init("id", "next-page"),
                                .init("href", link(filters + [("after", next.encoded)])),
                                text: "Next page →"
                            )
                        }
                    }
                }
            }
        }
        return html
    }

    private static func link(_ parameters: [(name: String, value: String)]) -> String {
        "/console/customers" + query(parameters)
    }

    static func query(_ parameters: [(name: String, value: String)]) -> String {
        guard !parameters.isEmpty else { return "" }
        return "?"
            + parameters.map { Cookies.percentEncoded($0.name) + "=" + Cookies.percentEncoded($0.value) }
            .joined(separator: "&")
    }

    // MARK: - The form

    private static func form(_ html: inout HTML, _ given: [String: String]) {
        html.element("form", .init("class", "filters"), .init("method", "get"), .init("action", "/console/customers")) {
            html in
            choice(&html, "tier", "Tier", ValueTier.allCases.sorted(by: >).map(\.rawValue), given)
            choice(&html, "stage", "Stage", LifecycleStage.allCases.map(\.rawValue), given)
            choice(&html, "segment", "RFM segment", RFMSegment.allCases.map(\.rawValue), given)
            choice(&html, "grid", "Nine-grid cell", CustomerFilter.gridCells, given)
            choice(&html, "type", "Type", CustomerFilter.customerTypes, given)
            choice(&html, "flag", "Flag", CustomerFlag.allCases.map(\.rawValue), given)
            field(&html, "region", "Region", given)
            field(&html, "min_orders", "Orders ≥", given, type: "number")
            field(&html, "max_orders", "Orders ≤", given, type: "number")
            field(&html, "min_clv", "Predicted ≥", given)
            field(&html, "max_clv", "Predicted ≤", given)
            field(&html, "min_historical", "Historical ≥", given)
            field(&html, "max_historical", "Historical ≤", given)
            field(&html, "min_p_alive", "p_alive ≥", given)
            field(&html, "max_p_alive", "p_alive ≤", given)
            field(&html, "last_order_after", "Last order after", given, placeholder: "1997-06-01T00:00:00Z")
            field(&html, "last_order_before", "Last order before", given, placeholder: "1998-01-01T00:00:00Z")
            html.element("div") { html in
                html.element("label", .init("for", "sort"), text: "Sort")
                html.element("select", .init("id", "sort"), .init("name", "sort")) { html in
                    let current = given["sort"] ?? "customer_id:asc"
                    for field in CustomerSort.Field.allCases {
                        for direction in ["asc", "desc"] {
                            let value = "\(field.rawValue):\(direction)"
                            html.element(
                                "option",
                                .init("value", value),
                                .init("selected", value == current ? "selected" : nil),
                                text: "\(field.rawValue) \(direction == "asc" ? "↑" : "↓")"
                            )
                        }
                    }
                }
            }
            html.element("div", .init("class", "actions")) { html in
                html.element("button", .init("class", "primary"), .init("type", "submit"), text: "Apply filters")
                html.element(
                    "a",
                    .init("class", "button secondary"),
                    .init("href", "/console/customers"),
                    text: "Clear"
                )
            }
        }
    }

    private static func choice(
        _ html: inout HTML,
        _ name: String,
        _ title: String,
        _ options: [String],
        _ given: [String: String]
    ) {
        html.element("div") { html in
            html.element("label", .init("for", name), text: title)
            html.element("select", .init("id", name), .init("name", name)) { html in
                html.element("option", .init("value", ""), text: "any")
                for option in options {
                    html.element(
                        "option",
                        .init("value", option),
                        .init("selected", given[name] == option ? "selected" : nil),
                        text: Figures.words(option)
                    )
                }
            }
        }
    }

    private static func field(
        _ html: inout HTML,
        _ name: String,
        _ title: String,
        _ given: [String: String],
        type: String = "text",
        placeholder: String? = nil
    ) {
        html.element("div") { html in
            html.element("label", .init("for", name), text: title)
            html.void(
                "input",
                .init("id", name),
                .init("name", name),
                .init("type", type),
                .init("value", given[name] ?? ""),
                .init("placeholder", placeholder)
            )
        }
    }

    // MARK: - The table

    private static func table(_ html: inout HTML, _ customers: [CustomerRecord]) {
        let columns: [(title: String, path: String, number: Bool)] = [
            ("customer", "customer_id", false), ("tier", "tier", false), ("stage", "lifecycle_stage", false),
            ("segment", "rfm.segment", false), ("cell", "grid", false), ("orders", "orders_count", true),
            ("historical", "clv.historical", true), ("predicted", "clv.predicted", true), ("p_alive", "p_alive", true),
            ("last order", "last_order_at", false), ("flags", "flags", false),
        ]
        html.element("div", .init("class", "table-scroll")) { html in
            html.element("table", .init("class", "sortable"), .init("id", "customers")) { html in
                html.element("thead") { html in
                    html.element("tr") { html in
                        for column in columns {
                            html.element(
                                "th",
                                .init("class", column.number ? "num" : nil),
                                .init("data-sort", column.number ? "number" : "text"),
                                text: column.title
                            )
                        }
                    }
                }
                html.element("tbody") { html in
                    for customer in customers {
                        html.element("tr", .init("data-customer", customer["customer_id"])) { html in
                            for column in columns {
                                cell(&html, customer, column.path, number: column.number)
                            }
                        }
                    }
                }
            }
        }
    }

    private static func cell(_ html: inout HTML, _ customer: CustomerRecord, _ path: String, number: Bool) {
        let value = customer[path]
        switch path {
        case "customer_id":
            html.element("td") { html in
                html.element("a", .init("href", CustomerPage.path(value ?? "")), text: value ?? "")
            }
        case "tier":
            html.element("td") { html in
                html.element("span", .init("class", "tag \(value ?? "")"), text: value ?? "–")
            }
        case "clv.historical", "clv.predicted":
            html.element("td", .init("class", "num"), .init("data-value", value ?? ""), text: Figures.money(value))
        case "p_alive":
            html.element(
                "td",
                .init("class", "num"),
                .init("data-value", value ?? ""),
                text: Figures.probability(value.flatMap(Double.init))
            )
        case "last_order_at":
            html.element("td", .init("data-value", value ?? ""), text: Figures.date(value))
        case "flags":
            html.element("td") { html in
                for flag in (value ?? "").split(separator: ";") {
                    html.element("span", .init("class", "tag flag"), text: String(flag))
                }
            }
        default:
            html.element(
                "td",
                .init("class", number ? "num" : nil),
                text: value.map { number ? $0 : Figures.words($0) } ?? "–"
            )
        }
    }
}
