import CRMPostgres
import Foundation

/// A customer's information chain in time order (`crm customer ID --timeline`): orders, stage and tier changes,
/// retention alerts with the desks' feedback, complaints with their status updates, and flags.
///
/// It reads every service's tables, so it runs with the owner's account (`crm`) or the web console's (`crm_console`,
/// which may read them all), never another service's.
public enum CustomerTimeline {
    /// `{"customer_id": …, "events": [{"at": …, "type": …, …}, …]}`, oldest first, or nil for an unknown customer
    /// with no events. Types: `order`, `score_change`, `alert`, `alert_feedback`, `complaint`, `complaint_status`,
    /// `flagged`, `unflagged`.
    public static func json(customerID: String, pool: PostgresPool) async throws -> String? {
        @Sendable func at(_ column: String) -> String {
            "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        }
        let rows = try await pool.transaction(isolation: .repeatableRead) { connection in
            try connection.query(
                """
                WITH events (at, rank, event) AS (
                    SELECT o.occurred_at, 1, json_build_object('at', \(at("o.occurred_at")), 'type', 'order',
                        'order_id', o.order_id, 'kind', o.kind, 'amount', o.amount::text, 'currency', o.currency,
                        'amount_base', o.amount_base::text, 'channel', o.channel, 'held', o.held,
                        'original_order_id', o.original_order_id)
                    FROM orders o WHERE o.customer_id = $1
                    UNION ALL
                    SELECT h.changed_at, 2, json_build_object('at', \(at("h.changed_at")), 'type', 'score_change',
                        'previous_lifecycle_stage', h.previous_lifecycle_stage, 'lifecycle_stage', h.lifecycle_stage,
                        'lifecycle_rule', h.lifecycle_rule, 'previous_tier', h.previous_tier, 'tier', h.tier,
                        'grid', h.grid, 'p_alive', h.p_alive, 'clv_predicted', h.clv_predicted::text)
                    FROM customer_score_history h WHERE h.customer_id = $1
                    UNION ALL
                    SELECT a.raised_at, 3, json_build_object('at', \(at("a.raised_at")), 'type', 'alert',
                        'alert_id', a.alert_id, 'priority', a.priority, 'reasons', a.reasons,
                        'value_at_risk', a.value_at_risk::text, 'tier', a.tier, 'lifecycle_stage', a.lifecycle_stage,
                        'status', a.status, 'suggested_action', a.suggested_action)
                    FROM retention_alerts a WHERE a.customer_id = $1
                    UNION ALL
                    SELECT f.at, 4, json_build_object('at', \(at("f.at")), 'type', 'alert_feedback',
                        'alert_id', f.alert_id, 'status', f.status, 'outcome', f.outcome, 'agent', f.agent,
                        'note', f.note)
                    FROM alert_feedback f JOIN retention_alerts a ON a.alert_id = f.alert_id
                    WHERE a.customer_id = $1
                    UNION ALL
                    SELECT c.received_at, 5, json_build_object('at', \(at("c.received_at")), 'type', 'complaint',
                        'complaint_id', c.complaint_id, 'channel', c.channel, 'subject', c.subject,
                        'category', c.category, 'severity', c.severity, 'priority', c.priority, 'desk', c.desk,
                        'state', c.state, 'order_id', c.order_id)
                    FROM complaints c WHERE c.customer_id = $1
                    UNION ALL
                    SELECT e.at, 6, json_build_object('at', \(at("e.at")), 'type', 'complaint_status',
                        'complaint_id', e.complaint_id, 'status', e.status, 'agent', e.agent,
                        'resolution', e.resolution, 'satisfaction', e.satisfaction)
                    FROM complaint_status_events e JOIN complaints c ON c.complaint_id = e.complaint_id
                    WHERE c.customer_id = $1
                    UNION ALL
                    SELECT g.at, 7, json_build_object('at', \(at("g.at")), 'type', g.action, 'flag', g.flag,
                        'note', g.note)
                    FROM customer_flag_events g WHERE g.customer_id = $1
                )
                SELECT json_build_object('customer_id', $1::text,
                           'events', coalesce(json_agg(event ORDER BY at, rank), '[]'::json))::text,
                       count(*) > 0 OR EXISTS (SELECT 1 FROM customers WHERE customer_id = $1)
                FROM events
                """,
                [customerID]
            )
        }
        guard let row = rows.first, try row.decode(1, as: Bool.self) else { return nil }
        return row[0]
    }
}
