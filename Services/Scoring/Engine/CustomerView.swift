import CRMPostgres
import Foundation

/// The customer object of the interface: `crm customer ID --json` and `GET /customers/{id}` return it.
///
/// Keys as the interface names them, plus `lifecycle_rule` (which documented rule set the stage), `strategy`
/// (the nine-grid cell's), `model_id` and `history` (every change of stage or tier, oldest first).
public enum CustomerView {
    /// The customer's object as JSON, or nil when the customer has never been scored.
    public static func json(customerID: String, pool: PostgresPool) async throws -> String? {
        try await pool.transaction(isolation: .repeatableRead) { connection in
            try json(customerID: customerID, on: connection)
        }
    }

    /// The customer's object as JSON, on the caller's connection.
    public static func json(customerID: String, on connection: isolated PostgresConnection) throws -> String? {
        let rows = try connection.query(
            """
            SELECT json_build_object(
                'customer_id', s.customer_id,
                'orders_count', s.orders_count,
                'transactions', s.transactions,
                'monetary_total', s.monetary_total::text,
                'monetary_average', s.monetary_average::text,
                'first_order_at', s.first_order_at,
                'last_order_at', s.last_order_at,
                'recency_days', s.recency_days,
                'rfm', CASE WHEN s.rfm_r IS NULL THEN NULL ELSE json_build_object(
                    'r', s.rfm_r, 'f', s.rfm_f, 'm', s.rfm_m, 'code', concat(s.rfm_r, s.rfm_f, s.rfm_m),
                    'recency_days', s.recency_days, 'frequency', s.orders_count,
                    'monetary', s.monetary_total::text) END,
                'clv', json_build_object(
                    'historical', s.clv_historical::text, 'simple', s.clv_simple::text,
                    'predicted', s.clv_predicted::text),
                'margin_rate', s.margin_rate,
                'p_alive', s.p_alive,
                'expected_purchases_90d', s.expected_purchases_90d,
                'expected_interval_days', s.expected_interval_days,
                'lifecycle_stage', s.lifecycle_stage,
                'lifecycle_rule', s.lifecycle_rule,
                'tier', s.tier,
                'grid', s.grid,
                'grid_axis', s.grid_axis,
                'strategy', s.strategy,
                'open_alerts', \(OpenItems.alertsCount),
                'open_complaints', \(OpenItems.complaintsCount),
                'model_id', s.model_id,
                'scored_at', s.scored_at,
                'history', coalesce((
                    SELECT json_agg(json_build_object(
                        'changed_at', h.changed_at, 'lifecycle_stage', h.lifecycle_stage,
                        'previous_lifecycle_stage', h.previous_lifecycle_stage, 'lifecycle_rule', h.lifecycle_rule,
                        'tier', h.tier, 'previous_tier', h.previous_tier, 'grid', h.grid, 'p_alive', h.p_alive,
                        'clv_predicted', h.clv_predicted::text) ORDER BY h.changed_at, h.id)
                    FROM customer_score_history h WHERE h.customer_id = s.customer_id), '[]'::json)
            )::text
            FROM customer_scores s WHERE s.customer_id = $1
            """,
            [customerID]
        )
        return rows.first?[0]
    }
}

/// How the customer view counts a customer's open alerts and complaints (the tables of crm-alerts and
/// crm-complaints: read here, never written).
enum OpenItems {
    static let alertsCount =
        "(SELECT count(*) FROM retention_alerts a WHERE a.customer_id = s.customer_id AND a.status <> 'resolved')"
    static let complaintsCount =
        "(SELECT count(*) FROM complaints c WHERE c.customer_id = s.customer_id AND c.state <> 'resolved')"
}
