import ArgumentParser
import CRMPostgres
import CRMSchema
import CRMSupport
import Foundation

/// `crm order ID`: where one order went, from the database: when and in which batch intake stored it (with the trace
/// id its messages carry), what it changed for its customer (the scores recorded after it), the retention alerts
/// raised for the customer after it, and the complaints naming it.
struct OrderTrace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order",
        abstract: "Follow one order: stored when, in which batch, what it caused.",
        discussion: """
            The trace id is the W3C trace the order arrived with (its traceparent header) or, without one, the \
            trace of the intake batch that stored it; every order.accepted, customer.scored and retention alert \
            it caused carries it in its traceparent header, and every log line about it has it as trace_id. \
            With OTEL_EXPORTER_OTLP_ENDPOINT set, the services export the spans: look the trace id up there.
            """
    )

    @Argument(help: "The order_id.")
    var orderID: String

    @Flag(help: "Print one JSON object (times in RFC 3339).")
    var json = false

    func run() async throws {
        let pool = try CommandEnvironment().pool()
        let report: [String: Any]?
        do {
            report = try await Self.report(orderID: orderID, pool: pool)
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
        guard let report else { throw CommandFailure.notFound("no order \(orderID)") }
        if json {
            print(try JSONOutput.string(report))
            return
        }
        Self.printText(report)
    }

    static func time(_ date: Date?) -> Any { date.map { UTCDateTime.format($0) } ?? NSNull() }

    static func report(orderID: String, pool: PostgresPool) async throws -> [String: Any]? {
        let rows = try await pool.query(
            """
            SELECT customer_id, kind, occurred_at, received_at, amount_base::text, held, trace_id, batch_id
            FROM orders WHERE order_id = $1
            """,
            [orderID]
        )
        guard let row = rows.first else {
            let removed = try await pool.query(
                "SELECT customer_id, removed_at, removed_by, reason FROM order_removals WHERE order_id = $1",
                [orderID]
            )
            guard let removal = removed.first else { return nil }
            return [
                "order_id": orderID, "customer_id": removal[0] ?? "", "removed": true,
                "removed_at": time(try removal.decode(1, as: Date.self)), "removed_by": removal[2] ?? "",
                "reason": removal[3] as Any? ?? NSNull(),
            ]
        }
        let customerID: String = try row.decode(0)
        let received: Date = try row.decode(3)
        let batchID: String? = row[7]
        var report: [String: Any] = [
            "order_id": orderID, "customer_id": customerID, "kind": row[1] ?? "",
            "occurred_at": time(try row.decode(2, as: Date.self)), "stored_at": time(received),
            "amount_base": Double(row[4] ?? "0") ?? 0, "held": try row.decode(5, as: Bool.self),
            "trace_id": row[6] as Any? ?? NSNull(), "batch_id": batchID as Any? ?? NSNull(),
        ]
        if let batchID {
            let batch = try await pool.query(
                "SELECT count(*), count(DISTINCT customer_id) FROM orders WHERE batch_id = $1",
                [batchID]
            )[0]
            report["batch"] = [
                "id": batchID, "orders": try batch.decode(0, as: Int.self),
                "customers": try batch.decode(1, as: Int.self),
            ]
        }
        // What scoring recorded for the customer since the order was stored (the first is the order's own rescoring).
        let history = try await pool.query(
            """
            SELECT changed_at, recorded_at, previous_lifecycle_stage, lifecycle_stage, previous_tier, tier
            FROM customer_score_history WHERE customer_id = $1 AND recorded_at >= $2
            ORDER BY recorded_at LIMIT 20
            """,
            [customerID, received]
        )
        report["score_changes"] = try history.map { change in
            [
                "changed_at": time(try change.decode(0, as: Date.self)),
                "recorded_at": time(try change.decode(1, as: Date.self)),
                "previous_lifecycle_stage": change[2] as Any? ?? NSNull(), "lifecycle_stage": change[3] ?? "",
                "previous_tier": change[4] as Any? ?? NSNull(), "tier": change[5] ?? "",
            ] as [String: Any]
        }
        let score = try await pool.query(
            """
            SELECT \(Schema.scoreAsOf("customer_scores")), updated_at, lifecycle_stage, tier, clv_predicted::float8, p_alive
            FROM customer_scores WHERE customer_id = $1
            """,
            [customerID]
        )
        if let current = score.first {
            let updated: Date = try current.decode(1)
            report["customer_score"] =
                [
                    "scored_at": time(try current.decode(0, as: Date.self)), "updated_at": time(updated),
                    "includes_order": updated >= received, "lifecycle_stage": current[2] ?? "",
                    "tier": current[3] ?? "",
                    "clv_predicted": try current.decodeIfPresent(4, as: Double.self) as Any? ?? NSNull(),
                    "p_alive": try current.decodeIfPresent(5, as: Double.self) as Any? ?? NSNull(),
                ] as [String: Any]
        } else {
            report["customer_score"] = NSNull()
        }
        let alerts = try await pool.query(
            """
            SELECT alert_id::text, raised_at, priority, array_to_string(reasons, ','), status, outcome, delivery
            FROM retention_alerts WHERE customer_id = $1 AND raised_at >= $2 ORDER BY raised_at LIMIT 20
            """,
            [customerID, received]
        )
        report["alerts_after"] = try alerts.map { alert in
            [
                "alert_id": alert[0] ?? "", "raised_at": time(try alert.decode(1, as: Date.self)),
                "priority": alert[2] ?? "", "reasons": (alert[3] ?? "").split(separator: ",").map(String.init),
                "status": alert[4] ?? "", "outcome": alert[5] as Any? ?? NSNull(), "delivery": alert[6] ?? "",
            ] as [String: Any]
        }
        let complaints = try await pool.query(
            """
            SELECT complaint_id, received_at, desk, priority, state
            FROM complaints WHERE order_id = $1 ORDER BY received_at LIMIT 20
            """,
            [orderID]
        )
        report["complaints"] = try complaints.map { complaint in
            [
                "complaint_id": complaint[0] ?? "", "received_at": time(try complaint.decode(1, as: Date.self)),
                "desk": complaint[2] ?? "", "priority": complaint[3] ?? "", "state": complaint[4] ?? "",
            ] as [String: Any]
        }
        return report
    }

    static func printText(_ report: [String: Any]) {
        func text(_ value: Any?) -> String {
            guard let value, !(value is NSNull) else { return "–" }
            return "\(value)"
        }
        print("Order \(text(report["order_id"])) of customer \(text(report["customer_id"]))")
        if report["removed"] as? Bool == true {
            print(
                "  removed at \(text(report["removed_at"])) by \(text(report["removed_by"])): \(text(report["reason"]))"
            )
            return
        }
        print(
            "  \(text(report["kind"])) of \(text(report["amount_base"])) (base currency), occurred \(text(report["occurred_at"]))"
        )
        print("  stored         \(text(report["stored_at"]))\(report["held"] as? Bool == true ? " (held refund)" : "")")
        if let batch = report["batch"] as? [String: Any] {
            print(
                "  batch          \(text(batch["id"])): \(text(batch["orders"])) orders of \(text(batch["customers"])) customers"
            )
        }
        print("  trace id       \(text(report["trace_id"]))")
        print("  caused         order.accepted for \(text(report["customer_id"])) (parent span: the batch)")
        if let score = report["customer_score"] as? [String: Any] {
            print(
                "  score now      \(text(score["lifecycle_stage"])), \(text(score["tier"])), scored \(text(score["updated_at"]))"
                    + (score["includes_order"] as? Bool == true ? "" : " (not yet rescored with this order)")
            )
        }
        for change in report["score_changes"] as? [[String: Any]] ?? [] {
            print(
                "  score change   \(text(change["recorded_at"])): \(text(change["previous_lifecycle_stage"])) → \(text(change["lifecycle_stage"])), \(text(change["previous_tier"])) → \(text(change["tier"]))"
            )
        }
        let alerts = report["alerts_after"] as? [[String: Any]] ?? []
        if alerts.isEmpty { print("  alerts after   none") }
        for alert in alerts {
            let reasons = (alert["reasons"] as? [String] ?? []).joined(separator: ", ")
            print(
                "  alert          \(text(alert["raised_at"])) \(text(alert["priority"])) (\(reasons)), \(text(alert["status"]))"
            )
        }
        for complaint in report["complaints"] as? [[String: Any]] ?? [] {
            print(
                "  complaint      \(text(complaint["complaint_id"])) \(text(complaint["received_at"])) → desk \(text(complaint["desk"])), \(text(complaint["state"]))"
            )
        }
    }
}
