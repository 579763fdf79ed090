import ArgumentParser
import CRMContract
import CRMOutbox
import CRMRuntime
import CRMSupport
import Foundation
import Scoring

/// `crm rescore`: a full rescoring now, in this process, under the same lock as the services' schedule.
struct Rescore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rescore every customer: aggregate the orders, refit the models, write all scores.",
        discussion: """
            Only orders at or before the as-of time count; scores, stages and events are as of that time, so \
            history can be replayed. A date alone means the end of that day (UTC). An as-of time more than a \
            minute in the past is a replay: it announces no lifecycle events on crm.lifecycle (those are for the \
            present), and the next rescoring of the present announces only what changed since the last \
            announcement. Only one full rescoring runs at a time: if a service replica is running one, this exits 1 \
            and says so. Reads the model settings (CRM_SCORING_*, CRM_LIFECYCLE_PLAYBOOK_FILE) from the environment, \
            like crm-scoring.
            """
    )

    @Option(name: .customLong("as-of"), help: "RFC 3339 time or YYYY-MM-DD (end of that day, UTC); default now.")
    var asOf: String?

    @Flag(help: "Print the report as one JSON object.")
    var json = false

    func validate() throws {
        if let asOf, Self.parse(asOf) == nil {
            throw ValidationError("--as-of must be an RFC 3339 time or a date YYYY-MM-DD, got \(asOf)")
        }
    }

    /// An RFC 3339 time, or the last millisecond of a UTC date.
    static func parse(_ text: String) -> Date? {
        if let timestamp = try? Timestamp(rfc3339: text) { return timestamp.date }
        guard text.count == 10, let midnight = try? Timestamp(rfc3339: text + "T00:00:00Z") else { return nil }
        return midnight.date.addingTimeInterval(86_400 - 0.001)
    }

    func run() async throws {
        let environment = CommandEnvironment()
        let settings: ScoringConfiguration
        do {
            settings = try ScoringConfiguration(environment.settings)
        } catch {
            throw CommandFailure.configuration("\(error)")
        }
        let playbook: LifecyclePlaybookSource
        do {
            playbook = try ScoringService.lifecyclePlaybook(environment.settings, logger: environment.logger)
        } catch {
            throw CommandFailure.configuration("\(error)")
        }
        let pool = try environment.pool()
        var rescoring = FullRescoring(
            pool: pool,
            outbox: Outbox(of: .scoring),
            settings: settings,
            environment: environment.settings,
            logger: environment.logger
        )
        rescoring.lifecyclePlaybook = playbook
        let quiet = json
        let report = try await rescoring.run(asOf: asOf.flatMap(Self.parse)) { phase in
            if !quiet { FileHandle.standardError.write(Data("rescore: \(phase)…\n".utf8)) }
        }
        await pool.close()
        if json {
            var object: [String: Any] = [
                "model_id": report.model.modelID ?? 0, "as_of": Timestamp(report.model.asOf).rfc3339,
                "customers": report.customers, "written": report.written, "kept": report.kept,
                "events": report.events,
                "unscored": report.unscored,
                "selected": report.model.selection.map { $0.selected.rawValue as Any } ?? NSNull(),
                "fit_failures": report.model.fitFailures,
            ]
            object["seconds"] = Dictionary(uniqueKeysWithValues: report.phases.map { ($0.name, $0.seconds) })
            object["validation_id"] = report.validation?.validationID.map { $0 as Any } ?? NSNull()
            print(try JSONOutput.string(object))
            return
        }
        let model = report.model
        print(
            "Rescored \(report.customers) customers as of \(Timestamp(model.asOf).rfc3339) (model \(model.modelID ?? 0)):"
                + " \(report.written) scores written, \(report.kept) kept as they stood."
        )
        for kind in PurchaseModelKind.allCases {
            let name = kind.displayName.padding(toLength: 13, withPad: " ", startingAt: 0)
            guard let fitted = model.purchaseModel(kind) else {
                let why =
                    model.fitFailures[kind.rawValue].map { "fit failed: \($0)" }
                    ?? "fewer than \(settings.minimumFitCustomers) customers with purchases"
                print("\(name)not fitted (\(why))")
                continue
            }
            let parameters = kind.parameterNames.map {
                String(format: "%@=%.4f", $0, fitted.namedParameters[$0] ?? .nan)
            }
            let kept = model.fitFailures[kind.rawValue].map { "  (fit failed: \($0); the previous model's is kept)" }
            print(name + parameters.joined(separator: " ") + (kept ?? ""))
        }
        if let spend = model.gammaGamma?.parameters {
            let kept = model.fitFailures["gamma_gamma"].map { "  (fit failed: \($0); the previous model's is kept)" }
            print(String(format: "Gamma-Gamma  p=%.4f q=%.4f v=%.4f", spend.p, spend.q, spend.v) + (kept ?? ""))
        }
        if let selection = model.selection {
            print("Selected     \(selection.selected.displayName): \(selection.reason)")
        }
        if let validation = report.validation {
            let errors = PurchaseModelKind.allCases.compactMap { kind in
                validation.result[kind].map { String(format: "%@ %.4f", kind.displayName, $0.mae) }
            }
            print(
                "Validated    on a \(String(format: "%.1f", validation.result.holdoutWeeks))-week holdout "
                    + "(validation \(validation.validationID ?? 0)); MAE per customer: \(errors.joined(separator: ", "))"
            )
        }
        print("Scores written: \(report.written); customer.scored events: \(report.events).")
        if !report.unscored.isEmpty {
            print(
                "Left out (a figure is not a finite number; their previous scores stand): "
                    + "\(report.unscored.count) customers, e.g. \(report.unscored.prefix(5).joined(separator: ", "))."
            )
        }
        let detail = ["merge", "events"].compactMap { part in
            model.statistics["seconds.write.\(part)"].map { String(format: "%@ %.2f", part, $0) }
        }
        print(
            "Seconds: " + report.phases.map { String(format: "%@ %.2f", $0.name, $0.seconds) }.joined(separator: ", ")
                + (detail.isEmpty ? "" : " (write: \(detail.joined(separator: ", ")))")
        )
    }
}

/// One JSON object on standard output, keys sorted.
enum JSONOutput {
    static func string(_ object: Any) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
