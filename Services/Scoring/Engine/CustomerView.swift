import CRMPostgres
import Foundation

/// The customer object of the interface: `crm customer ID --json` and `GET /customers/{id}` return it.
///
/// The leaves of ``CustomerColumns`` (the same object `crm customers` and `GET /customers` list, `satisfaction` and
/// `three_degree` included: ``CustomerColumns/Satisfaction``), plus `history` (every change of stage or tier, oldest
/// first). Beyond the interface's keys it carries `region` and `type`, the
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
        var writer = CustomerWriter(format: .jsonl, quantiles: try ModelStore.valueQuantiles(on: connection))
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
/// crm-complaints: read here, never written). A control-group alert is no open item: no desk was sent it, and it
/// stays open only until its outcome window has passed.
enum OpenItems {
    static let alertsCount =
        "(SELECT count(*) FROM retention_alerts a WHERE a.customer_id = s.customer_id AND a.status <> 'resolved'"
        + " AND a.alert_group <> 'control')"
    static let complaintsCount =
        "(SELECT count(*) FROM complaints c WHERE c.customer_id = s.customer_id AND c.state <> 'resolved')"
}
