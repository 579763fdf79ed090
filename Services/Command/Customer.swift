import ArgumentParser
import CRMSupport
import Foundation
import Scoring

/// `crm customer ID`: one customer's value, stage, tier and trajectory.
struct Customer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one customer's scores: RFM, lifetime value, p_alive, lifecycle stage, tier and history."
    )

    @Argument(help: "The customer id.")
    var id: String

    @Flag(help: "Print one JSON object (the same as crm-scoring's GET /customers/{id}).")
    var json = false

    func run() async throws {
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
