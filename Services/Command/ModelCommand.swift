import ArgumentParser
import Foundation
import Scoring

/// `crm model`: the newest fitted models, which one the scores carry and why, and how well they predicted.
struct Model: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the purchase models (BG/NBD, MBG/NBD, Pareto/NBD), Gamma-Gamma, the selection and validation.",
        subcommands: [Show.self, Validate.self],
        defaultSubcommand: Show.self
    )

    /// `crm model [show] [--json]`.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the newest model: the three purchase models side by side with their standard errors "
                + "and holdout errors, Gamma-Gamma, which model the scores carry and why, and the newest validation."
        )

        @Flag(help: "Print one JSON object.")
        var json = false

        func run() async throws {
            let pool = try CommandEnvironment().pool()
            let found = try await ModelView.json(pool: pool)
            await pool.close()
            guard let found else { throw CommandFailure.notFound("no model yet: run crm rescore") }
            if json {
                print(found)
                return
            }
            guard let object = try JSONSerialization.jsonObject(with: Data(found.utf8)) as? [String: Any] else {
                return
            }
            for line in ModelText.model(object) { print(line) }
        }
    }

    /// `crm model validate --calibration-end TIME [--holdout-end TIME] [--json]`.
    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fit every purchase model on the orders up to the calibration end and compare its predictions "
                + "with what the calibration customers bought in the holdout period.",
            discussion: """
                Calibration customers are those whose first purchase is at or before the calibration end; their \
                transactions are purchase days, the first one not a repeat. The holdout ends at --holdout-end, or \
                at the newest order. A date alone means the end of that day (UTC). The result is stored with the \
                newest model; under CRM_SCORING_MODEL=auto the next full rescoring selects the model with the \
                lowest mean absolute error. Reads CRM_SCORING_TIME_UNIT_DAYS and CRM_SCORING_MIN_FIT_CUSTOMERS.
                """
        )

        @Option(
            name: .customLong("calibration-end"),
            help: "End of the calibration period: RFC 3339 time or YYYY-MM-DD (end of that day, UTC)."
        )
        var calibrationEnd: String

        @Option(
            name: .customLong("holdout-end"),
            help: "End of the holdout period: RFC 3339 time or YYYY-MM-DD; default the newest order."
        )
        var holdoutEnd: String?

        @Flag(help: "Print the result as one JSON object.")
        var json = false

        func validate() throws {
            guard let calibration = Rescore.parse(calibrationEnd) else {
                throw ValidationError(
                    "--calibration-end must be an RFC 3339 time or a date YYYY-MM-DD, got \(calibrationEnd)"
                )
            }
            if let holdoutEnd {
                guard let holdout = Rescore.parse(holdoutEnd) else {
                    throw ValidationError(
                        "--holdout-end must be an RFC 3339 time or a date YYYY-MM-DD, got \(holdoutEnd)"
                    )
                }
                guard holdout > calibration else {
                    throw ValidationError("--holdout-end must be after --calibration-end")
                }
            }
        }

        func run() async throws {
            let environment = CommandEnvironment()
            let settings: ScoringConfiguration
            do {
                settings = try ScoringConfiguration(environment.settings)
            } catch {
                throw CommandFailure.configuration("\(error)")
            }
            let pool = try environment.pool()
            let stored: StoredValidation
            do {
                stored = try await HoldoutValidator(pool: pool, settings: settings).run(
                    calibrationEnd: Rescore.parse(calibrationEnd)!,
                    holdoutEnd: holdoutEnd.flatMap(Rescore.parse)
                )
            } catch let error as ScoringError where error.code == .invalidValidation {
                await pool.close()
                throw CommandFailure.failed("crm model validate: \(error.context)")
            }
            await pool.close()
            let text = try stored.json()
            if json {
                print(text)
                return
            }
            guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                return
            }
            for line in ModelText.validation(object, withParameters: true) { print(line) }
            if let best = stored.result.lowestError {
                print(
                    "Lowest holdout error: \(best.displayName); under CRM_SCORING_MODEL=auto the next full rescoring "
                        + "selects it."
                )
            }
        }
    }
}

/// The human form of `crm model` and `crm model validate`, from their JSON objects.
enum ModelText {
    /// The purchase models in the interface's order, with their JSON keys.
    static let kinds = PurchaseModelKind.allCases

    /// `crm model`.
    static func model(_ object: [String: Any]) -> [String] {
        var lines: [String] = []
        let replay = object["as_of_requested"] as? Bool == true ? " (replay)" : ""
        lines.append(
            "Model \(text(object["model_id"])) as of \(text(object["as_of"]))\(replay), fitted \(text(object["fitted_at"]))"
        )
        lines.append("  \(text(object["customers"])) customers; times in \(text(object["time_unit"]))s")
        if let selection = object["selection"] as? [String: Any] {
            lines.append(
                "  selected: \(displayName(selection["selected"])) (CRM_SCORING_MODEL=\(text(selection["setting"]))): "
                    + text(selection["reason"])
            )
        } else if let selected = object["selected"] as? String {
            lines.append(
                "  selected: \(displayName(selected)) (a model stored before MBG/NBD and Pareto/NBD were fitted)"
            )
        } else {
            lines.append("  selected: none (no purchase model fitted: too few customers, or no repeat purchase)")
        }
        let models = kinds.map { object[$0.rawValue] as? [String: Any] }
        let validation = object["validation"] as? [String: Any]
        let measured = kinds.map { (validation?["models"] as? [String: Any])?[$0.rawValue] as? [String: Any] }

        var rows: [[String]] = [[""] + kinds.map(\.displayName)]
        for position in 0..<4 {
            let label = Set(kinds.map { $0.parameterNames[position] }).sorted().joined(separator: " | ")
            rows.append(
                [label]
                    + zip(kinds, models).map { kind, model in
                        guard let model else { return "–" }
                        let name = kind.parameterNames[position]
                        let error = (model["standard_errors"] as? [String: Any])?[name] as? Double
                        return number(model[name]) + (error.map { " ±" + number($0) } ?? "")
                    }
            )
        }
        rows.append(["log-likelihood"] + models.map { number($0?["log_likelihood"], format: "%.2f") })
        rows.append(["fit"] + models.map(fitState))
        if validation != nil {
            rows.append(["holdout MAE"] + measured.map { number($0?["mae"]) })
            rows.append(["holdout RMSE"] + measured.map { number($0?["rmse"]) })
            rows.append(
                ["holdout predicted"] + measured.map { number($0?["total_predicted"], format: "%.1f") }
            )
            rows.append(["holdout actual"] + measured.map { $0.map { text($0["total_actual"]) } ?? "–" })
        }
        lines.append("")
        lines += table(rows, indent: "  ")
        if let spend = object["gamma_gamma"] as? [String: Any] {
            let errors = spend["standard_errors"] as? [String: Any]
            let parameters = ["p", "q", "v"].map { name in
                "\(name) \(number(spend[name]))" + ((errors?[name] as? Double).map { " ±" + number($0) } ?? "")
            }
            lines.append(
                "  Gamma-Gamma: \(parameters.joined(separator: ", ")); \(text(spend["customers"])) repeat buyers; "
                    + fitState(spend)
            )
        } else {
            lines.append("  Gamma-Gamma: not fitted")
        }
        if let failures = object["fit_failures"] as? [String: Any], !failures.isEmpty {
            let listed = failures.keys.sorted().map { "\($0) (\(text(failures[$0])))" }
            lines.append("  fits that failed in this run: \(listed.joined(separator: ", "))")
        }
        if let validation {
            lines.append("")
            lines += self.validation(validation, withParameters: false)
        } else {
            lines.append("")
            lines.append(
                "No holdout validation yet: crm model validate --calibration-end TIME, or CRM_SCORING_VALIDATE_HOLDOUT."
            )
        }
        return lines
    }

    /// A stored validation: its periods, per model its errors (and parameters), and the by-frequency table.
    static func validation(_ object: [String: Any], withParameters: Bool) -> [String] {
        let how = object["scheduled"] as? Bool == true ? "with a full rescoring" : "by crm model validate"
        let model = object["model_id"].flatMap { $0 is NSNull ? nil : $0 }.map { "model \($0)" } ?? "no model yet"
        var lines = [
            "Holdout validation \(text(object["validation_id"])), run \(how) at \(text(object["validated_at"])), "
                + "stored with \(model)",
            "  calibration to \(text(object["calibration_end"])), holdout to \(text(object["holdout_end"])) "
                + "(\(number(object["holdout_weeks"], format: "%.1f")) weeks), \(text(object["customers"])) "
                + "calibration customers",
        ]
        let models = object["models"] as? [String: Any] ?? [:]
        let measured = kinds.map { models[$0.rawValue] as? [String: Any] }
        if withParameters {
            var rows: [[String]] = [[""] + kinds.map(\.displayName)]
            for position in 0..<4 {
                let label = Set(kinds.map { $0.parameterNames[position] }).sorted().joined(separator: " | ")
                rows.append(
                    [label]
                        + zip(kinds, measured).map { kind, model in
                            number((model?["params"] as? [String: Any])?[kind.parameterNames[position]])
                        }
                )
            }
            rows.append(["log-likelihood"] + measured.map { number($0?["log_likelihood"], format: "%.2f") })
            rows.append(["predicted total"] + measured.map { number($0?["total_predicted"], format: "%.1f") })
            rows.append(["actual total"] + measured.map { $0.map { text($0["total_actual"]) } ?? "–" })
            rows.append(["MAE per customer"] + measured.map { number($0?["mae"]) })
            rows.append(["RMSE per customer"] + measured.map { number($0?["rmse"]) })
            lines += table(rows, indent: "  ")
        }
        if let failures = object["failures"] as? [String: Any], !failures.isEmpty {
            let listed = failures.keys.sorted().map { "\(displayName($0)) (\(text(failures[$0])))" }
            lines.append("  not fitted on the calibration period: \(listed.joined(separator: ", "))")
        }
        // The conditional-expectation table: mean holdout transactions by calibration repeat transactions.
        lines.append("  mean holdout transactions per customer, by repeat transactions in the calibration period:")
        var rows: [[String]] = [["x", "customers", "actual"] + kinds.map(\.displayName)]
        let groups = kinds.map { kind in
            ((models[kind.rawValue] as? [String: Any])?["by_frequency"] as? [[String: Any]]) ?? []
        }
        let reference = groups.first { !$0.isEmpty } ?? []
        for group in reference {
            let x = group["x"] as? Int ?? 0
            let label = x == HoldoutValidation.lastFrequencyGroup ? "\(x)+" : "\(x)"
            rows.append(
                [label, text(group["customers"]), number(group["actual_mean"], format: "%.3f")]
                    + groups.map { rows in
                        number(rows.first { $0["x"] as? Int == x }?["predicted_mean"], format: "%.3f")
                    }
            )
        }
        lines += table(rows, indent: "    ")
        return lines
    }

    // MARK: - Pieces

    /// How a model's fit ended, in a few words.
    static func fitState(_ model: [String: Any]?) -> String {
        guard let model else { return "not fitted" }
        if let from = model["carried_over_from"], !(from is NSNull) {
            return "kept from model \(text(from)) (\(text(model["fit_failure"])))"
        }
        return model["converged"] as? Bool == false ? "stopped short of convergence" : "converged"
    }

    static func displayName(_ value: Any?) -> String {
        (value as? String).flatMap(PurchaseModelKind.init(rawValue:))?.displayName ?? text(value)
    }

    static func text(_ value: Any?) -> String {
        guard let value, !(value is NSNull) else { return "–" }
        return "\(value)"
    }

    /// A figure to four decimals, or four significant digits where that would hide it.
    static func number(_ value: Any?, format: String = "%.4f") -> String {
        guard let value = value as? Double ?? (value as? Int).map(Double.init) else { return "–" }
        guard value.isFinite else { return "\(value)" }
        if value != 0, abs(value) >= 1e6 || abs(value) < 1e-3 { return String(format: "%.4g", value) }
        return String(format: format, value)
    }

    /// Rows as columns padded to their widest cell.
    static func table(_ rows: [[String]], indent: String) -> [String] {
        let count = rows.map(\.count).max() ?? 0
        let widths = (0..<count).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            indent
                + row.enumerated().map { column, cell in
                    column == row.count - 1
                        ? cell : cell.padding(toLength: widths[column] + 3, withPad: " ", startingAt: 0)
                }.joined()
        }
    }
}
