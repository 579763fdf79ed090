import ArgumentParser
import CRMSupport
import Foundation
import Scoring

/// `crm customer ID`: one customer's value, stage, tier and trajectory; `crm customer ID forget` erases their personal
/// data (``CustomerErasure``).
struct Customer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one customer's scores: RFM, lifetime value, p_alive, lifecycle stage, tier and history.",
        discussion: """
            `crm customer ID forget [--reason TEXT]` erases the customer's personal data (name, e-mail, complaint \
            subjects and bodies and every other free text) and keeps the figures; recorded in customer_erasures.
            """
    )

    @Argument(help: "The customer id.")
    var id: String

    @Argument(help: "forget: erase the customer's personal data, keeping the figures.")
    var action: CustomerAction?

    @Option(help: "With forget: why, kept in the audit (customer_erasures); no personal data.")
    var reason: String?

    @Flag(help: "Print one JSON object (the same as crm-scoring's GET /customers/{id}).")
    var json = false

    func validate() throws {
        if reason != nil && action != .forget { throw ValidationError("--reason goes with forget") }
    }

    func run() async throws {
        if action == .forget {
            try await forget()
            return
        }
        let pool = try CommandEnvironment().pool()
        let found = try await CustomerView.json(customerID: id, pool: pool)
        await pool.close()
        guard let found else { throw CommandFailure.notFound("no scored customer \(id)") }
        if json {
            print(found)
            return
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(found.utf8)) as? [String: Any] else { return }
        func text(_ key: String, in dictionary: [String: Any]? = nil) -> String {
            let value = (dictionary ?? object)[key]
            if value == nil || value is NSNull { return "–" }
            if let number = value as? Double, number != number.rounded() { return String(format: "%.4g", number) }
            return "\(value!)"
        }
        let clv = object["clv"] as? [String: Any]
        let rfm = object["rfm"] as? [String: Any]
        print("Customer \(text("customer_id"))")
        print(
            "  orders          \(text("orders_count")) (\(text("transactions")) purchase days), total \(text("monetary_total"))"
        )
        print(
            "  first / last    \(text("first_order_at")) / \(text("last_order_at")) (\(text("recency_days")) days ago)"
        )
        print("  RFM             \(rfm.map { text("code", in: $0) } ?? "–")")
        print(
            "  value           historical \(text("historical", in: clv)), simple \(text("simple", in: clv)), predicted \(text("predicted", in: clv))"
        )
        print("  p_alive         \(text("p_alive")); expected purchases in 90 days \(text("expected_purchases_90d"))")
        print("  stage           \(text("lifecycle_stage")) (\(text("lifecycle_rule")))")
        print("  tier / grid     \(text("tier")) / \(text("grid")) → \(text("strategy"))")
        print("  open            \(text("open_alerts")) alerts, \(text("open_complaints")) complaints")
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
}

/// `crm model`: the newest fitted model.
struct Model: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the newest model: BG/NBD and Gamma-Gamma parameters, time unit, as-of time, customers."
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
        guard let object = try JSONSerialization.jsonObject(with: Data(found.utf8)) as? [String: Any] else { return }
        func numbers(_ key: String, _ names: [String]) -> String {
            guard let part = object[key] as? [String: Any] else { return "not fitted" }
            return names.map { name in
                (part[name] as? Double).map { String(format: "%@=%.4f", name, $0) } ?? "\(name)=–"
            }.joined(separator: " ")
        }
        print(
            "Model \(object["model_id"] ?? "?") as of \(object["as_of"] ?? "?"), fitted \(object["fitted_at"] ?? "?")"
        )
        print("  customers    \(object["customers"] ?? "?"), time unit \(object["time_unit"] ?? "?")")
        print("  BG/NBD       \(numbers("bgnbd", ["r", "alpha", "a", "b"]))")
        print("  Gamma-Gamma  \(numbers("gamma_gamma", ["p", "q", "v"]))")
    }
}
