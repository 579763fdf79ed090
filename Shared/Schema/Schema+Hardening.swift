extension Schema {
    /// What hostile or careless input must not do to the stored data:
    ///
    /// - `orders_refunds`: the refunds of a purchase, found by index, so a refund is checked against the sum of those
    ///   already applied (``OrderBatchWriter`` locks the purchase's row first, so replicas racing on it serialise).
    /// - `held_refunds`: the body of each refund held until its purchase arrives. When the purchase then refuses it (another
    ///   customer's, a refund, too small for it), the body is dead-lettered with the reason and the held row removed, through
    ///   `crm_refuse_held_refunds`, which deletes held refunds and nothing else (`crm_intake` has no DELETE on `orders`).
    /// - `order_removals`: the audit of `crm orders remove`, one row per order an operator took out.
    /// - Money figures derived from sums (scores, their history, complaints' snapshots, alerts' value at risk) become
    ///   plain `numeric`: a sum of valid amounts never overflows a column. PostgreSQL changes a numeric's precision
    ///   without rewriting the table.
    static let hardening = Migration(
        version: 15,
        name: "hardening",
        sql: """
            CREATE INDEX orders_refunds ON orders (original_order_id) WHERE kind = 'refund';

            CREATE TABLE held_refunds (
                order_id text PRIMARY KEY REFERENCES orders (order_id) ON DELETE CASCADE,
                body text NOT NULL
            );

            CREATE FUNCTION crm_refuse_held_refunds(ids text[]) RETURNS SETOF text
                LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
                DELETE FROM public.orders WHERE order_id = ANY(ids) AND held AND kind = 'refund' RETURNING order_id
            $$;
            REVOKE ALL ON FUNCTION crm_refuse_held_refunds(text[]) FROM PUBLIC;

            CREATE TABLE order_removals (
                id bigserial PRIMARY KEY,
                order_id text NOT NULL,
                customer_id text NOT NULL,
                kind text NOT NULL,
                original_order_id text,
                occurred_at timestamptz NOT NULL,
                amount numeric NOT NULL,
                currency text NOT NULL,
                amount_base numeric NOT NULL,
                content_hash text NOT NULL,
                refunds_held integer NOT NULL DEFAULT 0,
                reason text,
                removed_by text NOT NULL DEFAULT current_user,
                removed_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX order_removals_order ON order_removals (order_id);

            ALTER TABLE customer_scores
                ALTER COLUMN monetary_total TYPE numeric, ALTER COLUMN monetary_average TYPE numeric,
                ALTER COLUMN clv_historical TYPE numeric, ALTER COLUMN clv_simple TYPE numeric,
                ALTER COLUMN clv_predicted TYPE numeric;
            ALTER TABLE customer_score_history ALTER COLUMN clv_predicted TYPE numeric;
            ALTER TABLE complaints ALTER COLUMN clv TYPE numeric;
            ALTER TABLE retention_alerts ALTER COLUMN value_at_risk TYPE numeric;
            """
    )
}
