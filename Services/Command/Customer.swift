import ArgumentParser
import CRMContract
import CRMSupport
import Foundation
import Scoring

/// `crm customer ID`: one customer's value, stage, tier and trajectory; its timeline; its flags; `crm customer ID
/// forget` erases their personal data (``CustomerErasure``).
struct Customer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one customer's scores or timeline, flag and unflag it, or erase its personal data.",
        usage: """
            crm customer <id> [--json] [--timeline]
            crm customer <id> flag <flag> [--note <text>]
            crm customer <id> unflag <flag>
            crm customer <id> forget [--reason <text>] [--json]
            """,
        discussion: """
            The scores: RFM and segment, lifetime value, p_alive, lifecycle stage, tier, nine-grid cell, flags and \
            the history of stage and tier changes. --timeline: orders, stage and tier changes, retention alerts with \
            the desks' feedback, complaints with their status updates and flags, oldest first. Flags (fraud, \
            bad_debt, opt_out, do_not_retain) show in the customer object; a flagged customer gets no retention \
            alert. forget erases the customer's personal data (name, e-mail, complaint subjects and bodies and every \
            other free text) and keeps the figures; recorded in customer_erasures.
            """
    )

    @Argument(help: "The customer id.")
    var id: String

    @Argument(help: "flag, unflag, or forget (erase the customer's personal data, keeping the figures).")
    var action: CustomerAction?

    @Argument(help: "With flag or unflag: fraud, bad_debt, opt_out or do_not_retain.")
    var flag: String?

    @Option(help: "With flag: why, kept with the flag and in the timeline.")
    var note: String?

    @Option(help: "With forget: why, kept in the audit (customer_erasures); no personal data.")
    var reason: String?

    @Flag(help: "Print one JSON object (the same as crm-scoring's GET /customers/{id}).")
    var json = false

    @Flag(help: "Show the customer's timeline instead of its scores.")
    var timeline = false

    func validate() throws {
        if reason != nil && action != .forget { throw ValidationError("--reason goes with forget") }
        if note != nil && action != .flag { throw ValidationError("--note goes with flag") }
        if flag != nil && action != .flag && action != .unflag {
            throw ValidationError("<flag> goes with flag or unflag")
        }
        if timeline && action != nil { throw ValidationError("--timeline: not with \(action!.rawValue)") }
    }

    func run() async throws {
        switch action {
        case .forget:
            try await forget()
            return
        case .flag, .unflag:
            try await change(action!)
            return
        case nil:
            break
        }
        let pool = try CommandEnvironment().pool()
        let found: String?
        do {
            found =
                timeline
                ? try await CustomerTimeline.json(customerID: id, pool: pool)
                : try await CustomerView.json(customerID: id, pool: pool)
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
        guard let found else {
            throw CommandFailure.notFound(timeline ? "no customer \(id)" : "no scored customer \(id)")
        }
        if json {
            print(found)
            return
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(found.utf8)) as? [String: Any] else { return }
        if timeline {
            printTimeline(object)
        } else {
            printScores(object)
        }
    }

    /// `flag FLAG [--note TEXT]` or `unflag FLAG`.
    private func change(_ action: CustomerAction) async throws {
        let names = CustomerFlag.allCases.map(\.rawValue).joined(separator: ", ")
        guard let flag else { throw CommandFailure.usage("\(action.rawValue): which flag? (\(names))") }
        guard let chosen = CustomerFlag(rawValue: flag) else {
            throw CommandFailure.usage("\(flag): unknown flag (\(names))")
        }
        if json { throw CommandFailure.usage("--json: not with \(action.rawValue)") }
        let pool = try CommandEnvironment().pool()
        let outcome: CustomerFlags.Outcome
        do {
            outcome =
                action == .flag
                ? try await CustomerFlags.flag(chosen, customerID: id, note: note, pool: pool)
                : try await CustomerFlags.unflag(chosen, customerID: id, pool: pool)
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
        switch outcome {
        case .unknownCustomer: throw CommandFailure.notFound("no customer \(id)")
        case .flagged: print("Customer \(id) flagged \(flag).")
        case .renewed: print("Customer \(id) was already flagged \(flag); note and time renewed.")
        case .unflagged: print("Customer \(id) no longer flagged \(flag).")
        case .notFlagged: print("Customer \(id) was not flagged \(flag); nothing changed.")
        }
    }

    private func printScores(_ object: [String: Any]) {
        func text(_ key: String, in dictionary: [String: Any]? = nil) -> String {
            let value = (dictionary ?? object)[key]
            if value == nil || value is NSNull { return "–" }
            if let number = value as? Double, number != number.rounded() { return String(format: "%.4g", number) }
            return "\(value!)"
        }
        let clv = object["clv"] as? [String: Any]
        let rfm = object["rfm"] as? [String: Any]
        let flags = (object["flags"] as? [String]) ?? []
        print("Customer \(text("customer_id"))")
        print("  region / type   \(text("region")) / \(text("type"))")
        print(
            "  orders          \(text("orders_count")) (\(text("transactions")) purchase days), total \(text("monetary_total"))"
        )
        print(
            "  first / last    \(text("first_order_at")) / \(text("last_order_at")) (\(text("recency_days")) days before the scoring)"
        )
        print("  RFM             \(rfm.map { "\(text("code", in: $0)) \(text("segment", in: $0))" } ?? "–")")
        print(
            "  value           historical \(text("historical", in: clv)), simple \(text("simple", in: clv)), predicted \(text("predicted", in: clv))"
        )
        print("  p_alive         \(text("p_alive")); expected purchases in 90 days \(text("expected_purchases_90d"))")
        print("  stage           \(text("lifecycle_stage")) (\(text("lifecycle_rule")))")
        print("  tier / grid     \(text("tier")) / \(text("grid")) → \(text("strategy"))")
        print("  flags           \(flags.isEmpty ? "–" : flags.joined(separator: ", "))")
        print("  open            \(text("open_alerts")) alerts, \(text("open_complaints")) complaints")
        if let satisfaction = object["satisfaction"] as? [String: Any],
            let degrees = object["three_degree"] as? [String: Any]
        {
            let ratings = text("ratings", in: satisfaction)
            let rated =
                ratings == "0"
                ? "no ratings"
                : "mean \(text("mean", in: satisfaction)) of \(ratings) rated, last \(text("last", in: satisfaction))"
            print("  satisfaction    \(rated)")
            print(
                "  three degrees   satisfaction \(text("satisfaction", in: degrees)), retention "
                    + "\(text("retention", in: degrees)), contribution \(text("contribution", in: degrees))"
                    + ((degrees["false_loyalty"] as? Bool) == true ? "; false loyalty" : "")
            )
        }
        print("  scored at       \(text("scored_at"))")
        let history = object["history"] as? [[String: Any]] ?? []
        if !history.isEmpty {
            print("  history")
            for change in history {
                print(
                    "    \(text("changed_at", in: change))  \(text("lifecycle_stage", in: change)), \(text("tier", in: change))"
                )
            }
        }
    }

    private func printTimeline(_ object: [String: Any]) {
        let events = object["events"] as? [[String: Any]] ?? []
        print("Customer \(id): \(events.count) events")
        for event in events {
            func text(_ key: String) -> String {
                guard let value = event[key], !(value is NSNull) else { return "–" }
                if let list = value as? [Any] { return list.map { "\($0)" }.joined(separator: ", ") }
                return "\(value)"
            }
            let detail: String
            switch event["type"] as? String {
            case "order":
                detail =
                    "\(text("kind")) \(text("order_id")) \(text("amount")) \(text("currency"))"
                    + ((event["held"] as? Bool) == true ? " (held)" : "")
            case "score_change":
                detail =
                    "stage \(text("previous_lifecycle_stage")) → \(text("lifecycle_stage")) (\(text("lifecycle_rule"))), "
                    + "tier \(text("previous_tier")) → \(text("tier"))"
            case "alert":
                detail =
                    "\(text("priority")) \(text("alert_id")) \(text("reasons")), at risk \(text("value_at_risk")) [\(text("status"))]"
            case "alert_feedback":
                detail = "\(text("alert_id")) \(text("status")) \(text("outcome")) by \(text("agent"))"
            case "complaint":
                detail =
                    "\(text("complaint_id")) \(text("category")) \(text("severity")) \(text("priority")) → \(text("desk")) [\(text("state"))]"
            case "complaint_status":
                detail = "\(text("complaint_id")) \(text("status")) by \(text("agent"))"
            default:
                detail = "\(text("flag"))" + (event["note"] is String ? ": \(text("note"))" : "")
            }
            print("  \(text("at"))  \(text("type").padding(toLength: 16, withPad: " ", startingAt: 0))  \(detail)")
        }
    }
}
