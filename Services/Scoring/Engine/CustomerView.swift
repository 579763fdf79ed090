import CRMPostgres
import Foundation

/// The customer object of the interface: `crm customer ID --json` and `GET /customers/{id}` return it.
///
/// The leaves of ``CustomerColumns`` (the same object `crm customers` and `GET /customers` list), plus `history`:
/// every change of stage or tier, oldest first. Beyond the interface's keys it carries `region` and `type`, the
/// RFM `code` and `segment`, `lifecycle_rule` (which documented rule set the stage), `strategy` (the nine-grid
/// cell's), `flags` and `model_id`.
public enum CustomerView {
    /// The customer's object as JSON, or nil when the customer has never been scored.
    public static func json(customerID: String, pool: PostgresPool) async throws -> String? {
        try await pool.transaction(isolation: .repeatableRead) { connection in
            try json(customerID: customerID, on: connection)
        }
    }

    /// The customer's object as JSON, on the caller's connection, inside its transaction.
    public static func json(customerID: String, on connection: isolated PostgresConnection) throws -> String? {
        var query = CustomerQuery()
        query.customerID = customerID
        var writer = CustomerWriter(format: .jsonl)
        var bytes: [UInt8] = []
        _ = try CustomerList.rows(query, on: connection) { row in writer.appendObject(row, into: &bytes) }
        guard bytes.last == UInt8(ascii: "}") else { return nil }
        let history = try connection.query(
            """
            SELECT coalesce(json_agg(json_build_object(
                'changed_at', to_char(h.changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                'lifecycle_stage', h.lifecycle_stage, 'previous_lifecycle_stage', h.previous_lifecycle_stage,
                'lifecycle_rule', h.lifecycle_rule, 'tier', h.tier, 'previous_tier', h.previous_tier, 'grid', h.grid,
                'p_alive', h.p_alive, 'clv_predicted', h.clv_predicted::text) ORDER BY h.changed_at, h.id), '[]'::json)
            FROM customer_score_history h WHERE h.customer_id = $1
            """,
            [customerID]
        )
        bytes.removeLast()
        bytes.append(contentsOf: #","history":"#.utf8)
        bytes.append(contentsOf: (history.first?[0] ?? "[]").utf8)
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
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

/// The model object of the interface: `crm model --json`.
public enum ModelView {
    /// The newest model as JSON, or nil before the first full rescoring.
    public static func json(pool: PostgresPool) async throws -> String? {
        let rows = try await pool.query(
            """
            SELECT json_build_object(
                'model_id', model_id,
                'bgnbd', CASE WHEN bgnbd IS NULL THEN NULL ELSE json_build_object(
                    'r', bgnbd #> '{parameters,r}', 'alpha', bgnbd #> '{parameters,alpha}',
                    'a', bgnbd #> '{parameters,a}', 'b', bgnbd #> '{parameters,b}',
                    'log_likelihood', bgnbd -> 'logLikelihood', 'converged', bgnbd -> 'converged',
                    'customers', bgnbd -> 'customers') END,
                'gamma_gamma', CASE WHEN gamma_gamma IS NULL THEN NULL ELSE json_build_object(
                    'p', gamma_gamma #> '{parameters,p}', 'q', gamma_gamma #> '{parameters,q}',
                    'v', gamma_gamma #> '{parameters,v}', 'log_likelihood', gamma_gamma -> 'logLikelihood',
                    'converged', gamma_gamma -> 'converged', 'customers', gamma_gamma -> 'customers') END,
                'time_unit', CASE time_unit_days WHEN 7 THEN 'week' WHEN 1 THEN 'day'
                                 ELSE time_unit_days::text || ' days' END,
                'time_unit_days', time_unit_days,
                'as_of', as_of,
                'as_of_requested', as_of_requested,
                'customers', customers,
                'fitted_at', fitted_at,
                'tier_cutoffs', tier_cutoffs,
                'rfm_breakpoints', rfm_breakpoints,
                'statistics', statistics
            )::text
            FROM scoring_models ORDER BY model_id DESC LIMIT 1
            """
        )
        return rows.first?[0]
    }
}
