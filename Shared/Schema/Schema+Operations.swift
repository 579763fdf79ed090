extension Schema {
    /// What operators need around the running system:
    ///
    /// - `orders.trace_id`, `orders.batch_id`: the W3C trace id the order arrived with (or its batch's, when it came
    ///   without) and the span id of the intake batch that stored it, the parent of the `order.accepted` event it
    ///   caused: `crm order ID` follows an order from them.
    /// - `customer_erasures`: the audit of `crm customer ID forget` (who, when, why, how many rows of each kind were
    ///   erased), the operators' alone like `order_removals`. It holds the customer id, never what was erased.
    /// - Indexes for pruning by age (`crm prune`): score history by `changed_at`, resolved alerts by `resolved_at`.
    static let operations = Migration(
        version: 17,
        name: "operations",
        sql: """
            ALTER TABLE orders ADD COLUMN trace_id text, ADD COLUMN batch_id text;

            CREATE TABLE customer_erasures (
                id bigserial PRIMARY KEY,
                customer_id text NOT NULL,
                reason text,
                erased jsonb NOT NULL,
                erased_by text NOT NULL DEFAULT current_user,
                erased_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX customer_erasures_customer ON customer_erasures (customer_id);

            CREATE INDEX customer_score_history_changed ON customer_score_history (changed_at);
            CREATE INDEX retention_alerts_resolved ON retention_alerts (resolved_at) WHERE status = 'resolved';
            """
    )
}
