extension Schema {
    /// What `crm-alerts` keeps: the snapshot it last evaluated per customer, the alerts with their reasons and the
    /// desks' feedback, the complaints it has heard of, the daily publishing counts per desk queue, and its sweeps.
    ///
    /// - `alert_customer_state` is the "previous" of the next evaluation: every trigger fires on a change against it.
    /// - `retention_alert_reasons` holds one row per alert and reason; the partial unique index is the rule "one open
    ///   alert per customer and reason", enforced by the database across replicas. `closed_at` drives the cooldown.
    /// - `retention_alerts.delivery` is `queued` (handed to the outbox) or `held` (over the day's cap of its desk
    ///   queue; published on a later day, never dropped).
    static let alerts = Migration(
        version: 5,
        name: "alerts",
        sql: """
            CREATE TABLE alert_customer_state (
                customer_id text PRIMARY KEY,
                scored_at timestamptz NOT NULL,
                lifecycle_stage text NOT NULL,
                tier text NOT NULL,
                p_alive double precision,
                clv_predicted double precision,
                orders_count integer NOT NULL,
                expected_interval_days double precision,
                days_since_last_order double precision,
                last_order_at timestamptz,
                evaluated_at timestamptz NOT NULL
            );

            CREATE TABLE retention_alerts (
                alert_id uuid PRIMARY KEY,
                customer_id text NOT NULL,
                raised_at timestamptz NOT NULL,
                scored_at timestamptz NOT NULL,
                priority text NOT NULL CHECK (priority IN ('p1', 'p2', 'p3')),
                reasons text[] NOT NULL,
                value_at_risk numeric(19, 2) NOT NULL CHECK (value_at_risk >= 0),
                tier text NOT NULL,
                lifecycle_stage text NOT NULL,
                suggested_action text NOT NULL,
                evidence jsonb NOT NULL,
                body text NOT NULL,
                delivery text NOT NULL CHECK (delivery IN ('queued', 'held')),
                queued_at timestamptz,
                status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
                acknowledged_at timestamptz,
                resolved_at timestamptz,
                outcome text CHECK (outcome IN ('retained', 'lost', 'not_contacted')),
                agent text
            );
            CREATE INDEX retention_alerts_customer ON retention_alerts (customer_id, raised_at);
            CREATE INDEX retention_alerts_held ON retention_alerts (priority, value_at_risk DESC, raised_at)
                WHERE delivery = 'held';

            CREATE TABLE retention_alert_reasons (
                alert_id uuid NOT NULL REFERENCES retention_alerts (alert_id) ON DELETE CASCADE,
                customer_id text NOT NULL,
                reason text NOT NULL,
                open boolean NOT NULL DEFAULT true,
                closed_at timestamptz,
                PRIMARY KEY (alert_id, reason)
            );
            CREATE UNIQUE INDEX retention_alert_reasons_open ON retention_alert_reasons (customer_id, reason) WHERE open;
            CREATE INDEX retention_alert_reasons_closed ON retention_alert_reasons (customer_id, closed_at)
                WHERE NOT open;

            CREATE TABLE alert_feedback (
                id bigserial PRIMARY KEY,
                alert_id uuid NOT NULL REFERENCES retention_alerts (alert_id) ON DELETE CASCADE,
                status text NOT NULL CHECK (status IN ('acknowledged', 'resolved')),
                outcome text CHECK (outcome IN ('retained', 'lost', 'not_contacted')),
                at timestamptz NOT NULL,
                agent text,
                note text,
                recorded_at timestamptz NOT NULL DEFAULT now(),
                UNIQUE (alert_id, status, at)
            );

            CREATE TABLE alert_complaints (
                complaint_id text PRIMARY KEY,
                customer_id text NOT NULL,
                received_at timestamptz NOT NULL,
                tier text,
                severity text NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now(),
                evaluated boolean NOT NULL DEFAULT false
            );
            CREATE INDEX alert_complaints_customer ON alert_complaints (customer_id, received_at);

            CREATE TABLE alert_daily_counts (
                day date NOT NULL,
                priority text NOT NULL,
                queued integer NOT NULL DEFAULT 0,
                PRIMARY KEY (day, priority)
            );

            CREATE TABLE alert_sweeps (
                id bigserial PRIMARY KEY,
                instance_id text NOT NULL,
                started_at timestamptz NOT NULL,
                finished_at timestamptz,
                customers integer NOT NULL DEFAULT 0,
                alerts integer NOT NULL DEFAULT 0
            );
            """
    )
}
