import Foundation
import Scoring

/// `/console/model`: the parameters of each fitted model (as `crm model --json`), the validation chart of actual
/// against predicted holdout purchases by calibration frequency when a validation is stored with the model, and
/// the p_alive matrix by frequency and recency (lifetimes' plot_probability_alive_matrix).
enum ModelPage {
    /// The models the interface names, in the order shown, with their parameters' keys.
    static let models: [(key: String, title: String, parameters: [String])] = [
        ("bgnbd", "BG/NBD", ["r", "alpha", "a", "b"]),
        ("mbgnbd", "MBG/NBD", ["r", "alpha", "a", "b"]),
        ("pareto_nbd", "Pareto/NBD", ["r", "alpha", "s", "beta"]),
        ("gamma_gamma", "Gamma-Gamma (spend)", ["p", "q", "v"]),
    ]

    /// `oldestFirstPurchase`: the start of the oldest cohort, which bounds the matrix's recency axis.
    static func render(model: ModelSummary?, oldestFirstPurchase: Date?, session: ConsoleSession) -> HTML {
        var html = HTML()
        Layout.write(into: &html, title: "Model", current: .model, session: session) { html in
            guard let model else {
                Layout.heading(&html, "Model", nil)
                Layout.missing(
                    &html,
                    "No model yet",
                    "A model is fitted by every full rescoring; none has run on this database yet."
                )
                return
            }
            let object = model.object
            let unit = CustomerPage.text(object["time_unit"]) ?? "week"
            Layout.heading(
                &html,
                "Model",
                "Fitted \(Figures.minute(CustomerPage.text(object["fitted_at"]))) on the orders up to "
                    + "\(Figures.minute(CustomerPage.text(object["as_of"]))); rates per \(unit)."
            )
            html.element("div", .init("class", "figures")) { html in
                Layout.figure(&html, "Customers", Figures.count(Int(ModelSummary.number(object["customers"]) ?? 0)))
                Layout.figure(&html, "Selected model", CustomerPage.text(object["selected"]).map(title) ?? "BG/NBD")
                Layout.figure(&html, "Model id", CustomerPage.text(object["model_id"]) ?? "–")
            }
            parameters(&html, object)
            validation(&html, object)
            html.element("section", .init("class", "panel"), .init("id", "alive-matrix")) { html in
                guard let purchase = model.purchaseModel else {
                    html.element("h2", text: "p_alive by frequency and recency")
                    html.element(
                        "p",
                        .init("class", "empty"),
                        text: "No purchase model fitted: too few repeat purchases."
                    )
                    return
                }
                let name = type(of: purchase.model).kind.displayName
                html.element("h2", text: "p_alive by frequency and recency (\(name), the model the scores carry)")
                let age = oldestFirstPurchase.map { purchase.asOf.timeIntervalSince($0) / 86_400 / purchase.unitDays }
                aliveMatrix(&html, purchase.model, age: max(age ?? 52, 4), unit: unit)
            }
        }
        return html
    }

    private static func title(_ key: String) -> String {
        models.first { $0.key == key }?.title ?? key
    }

    private static func parameters(_ html: inout HTML, _ object: [String: Any]) {
        html.element("section", .init("class", "panel"), .init("id", "parameters")) { html in
            html.element("h2", text: "Parameters")
            html.element("table") { html in
                html.element("thead") { html in
                    html.element("tr") { html in
                        html.element("th", text: "model")
                        html.element("th", text: "parameters (± standard error)")
                        html.element("th", .init("class", "num"), text: "log-likelihood")
                        html.element("th", .init("class", "num"), text: "customers")
                        html.element("th", text: "converged")
                    }
                }
                html.element("tbody") { html in
                    for model in models {
                        html.element("tr", .init("data-model", model.key)) { html in
                            html.element("td", text: model.title)
                            guard let fitted = object[model.key] as? [String: Any] else {
                                html.element(
                                    "td",
                                    .init("class", "empty"),
                                    text: object.keys.contains(model.key) ? "not fitted" : "not part of this model yet"
                                )
                                html.element("td")
                                html.element("td")
                                html.element("td")
                                return
                            }
                            let errors = fitted["standard_errors"] as? [String: Any] ?? [:]
                            html.element(
                                "td",
                                .init("class", "wrap"),
                                text: model.parameters.map { name in
                                    let value =
                                        ModelSummary.number(fitted[name]).map { HTML.format($0, decimals: 4) } ?? "–"
                                    let error =
                                        ModelSummary.number(errors[name]).map { " ± " + HTML.format($0, decimals: 4) }
                                        ?? ""
                                    return "\(name) = \(value)\(error)"
                                }.joined(separator: ",  ")
                            )
                            html.element(
                                "td",
                                .init("class", "num"),
                                text: ModelSummary.number(fitted["log_likelihood"]).map { HTML.format($0, decimals: 2) }
                                    ?? "–"
                            )
                            html.element(
                                "td",
                                .init("class", "num"),
                                text: ModelSummary.number(fitted["customers"]).map { Figures.count(Int($0)) } ?? "–"
                            )
                            html.element("td", text: (fitted["converged"] as? Bool).map { $0 ? "yes" : "no" } ?? "–")
                        }
                    }
                }
            }
        }
    }

    /// The stored validation: per model, actual and predicted mean holdout transactions by calibration frequency.
    private static func validation(_ html: inout HTML, _ object: [String: Any]) {
        html.element("section", .init("class", "panel"), .init("id", "validation")) { html in
            html.element("h2", text: "Validation: actual against predicted")
            guard let validation = object["validation"] as? [String: Any],
                let fitted = validation["models"] as? [String: Any], !fitted.isEmpty
            else {
                html.element(
                    "p",
                    .init("class", "empty"),
                    text: "No validation is stored with this model yet. A holdout validation (crm model validate) "
                        + "stored with the model appears here: actual against predicted purchases in the holdout "
                        + "period, by the number of repeat purchases in the calibration period."
                )
                return
            }
            html.element(
                "p",
                .init("class", "muted"),
                text: "Calibration to \(Figures.date(CustomerPage.text(validation["calibration_end"]))), holdout to "
                    + "\(Figures.date(CustomerPage.text(validation["holdout_end"]))) "
                    + "(\(CustomerPage.text(validation["customers"]) ?? "?") customers)."
            )
            for model in models where model.key != "gamma_gamma" {
                guard let result = fitted[model.key] as? [String: Any],
                    let groups = result["by_frequency"] as? [[String: Any]]
                else { continue }
                html.element(
                    "h3",
                    text:
                        "\(model.title) · MAE \(HTML.format(ModelSummary.number(result["mae"]) ?? 0, decimals: 3)) · RMSE \(HTML.format(ModelSummary.number(result["rmse"]) ?? 0, decimals: 3))"
                )
                BarCharts.actualAgainstPredicted(
                    &html,
                    pairs: groups.map { group in
                        let x = Int(ModelSummary.number(group["x"]) ?? 0)
                        return .init(
                            label: x >= 7 ? "7+" : String(x),
                            customers: Int(ModelSummary.number(group["customers"]) ?? 0),
                            actual: ModelSummary.number(group["actual_mean"]) ?? 0,
                            predicted: ModelSummary.number(group["predicted_mean"]) ?? 0
                        )
                    },
                    yTitle: "mean holdout purchases",
                    xTitle: "repeat purchases in the calibration period"
                )
            }
            html.element("div", .init("class", "legend")) { html in
                html.element("span", .init("class", "actual"), text: "actual")
                html.element("span", .init("class", "predicted"), text: "predicted")
            }
        }
    }

    /// P(alive) for frequencies 0…24 (rows) and recencies 0…age (columns), for a customer of the oldest age.
    private static func aliveMatrix(_ html: inout HTML, _ model: any PurchaseModel, age: Double, unit: String) {
        let frequencies = Array(0...24)
        let columns = 40
        let recencies = (0..<columns).map { age * Double($0) / Double(columns - 1) }
        let values = frequencies.map { x in
            recencies.map { tx in
                x == 0 ? model.probabilityAlive(x: 0, tx: 0, T: age) : model.probabilityAlive(x: x, tx: tx, T: age)
            }
        }
        HeatCharts.matrix(
            &html,
            values: values,
            rowLabels: frequencies.map(String.init),
            columnLabels: recencies.map { HTML.format($0) },
            rowTitle: "repeat purchases",
            columnTitle: "recency (\(unit)s since first purchase, of \(HTML.format(age)))",
            label: "Probability alive by frequency and recency"
        )
        html.element(
            "p",
            .init("class", "muted"),
            text: "For a customer whose first purchase was \(HTML.format(age)) \(unit)s before the model's as-of time: "
                + "dark is likely alive. A frequent buyer who has not bought for long is the one at risk."
        )
    }
}
