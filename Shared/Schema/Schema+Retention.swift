extension Schema {
    /// Retention that proves itself: a control group, the outcome observed in the orders, and why customers left.
    ///
    /// - `retention_alerts.alert_group` is `alerted` (published to a desk) or `control` (kept back by the stable hash
    ///   of the customer id); a control alert's `delivery` is `control`: it takes no room in a desk queue and is
    ///   never published.
    /// - `as_of` is the scoring time the alert was evaluated at (a replay's as-of time, else the wall clock).
    /// - `observed_outcome`, `returned_value` and `returned_at` are judged from the orders after `as_of` within the
    ///   outcome window, as of `outcome_as_of`: a full rescoring judges every alert as of its as-of time, and orders
    ///   judge their customer's alerts as they arrive.
    /// - `churn_type` and `churn_cause` come with the desks' feedback (`alert-feedback.v1`), on the feedback row and,
    ///   from the resolving one, on the alert.
    /// - `alert_outcome_runs` records each full rescoring (by its model) whose outcome update has run, so one replica
    ///   runs it once.
    static let retentionOutcomes = Migration(
        version: 30,
        name: "retention outcomes, control group and churn causes",
        sql: """
            ALTER TABLE retention_alerts
                ADD COLUMN alert_group text NOT NULL DEFAULT 'alerted' CHECK (alert_group IN ('alerted', 'control')),
                ADD COLUMN as_of timestamptz,
                ADD COLUMN observed_outcome text NOT NULL DEFAULT 'pending'
                    CHECK (observed_outcome IN ('returned', 'not_returned', 'pending')),
                ADD COLUMN returned_value numeric(19, 4) NOT NULL DEFAULT 0,
                ADD COLUMN returned_at timestamptz,
                ADD COLUMN outcome_as_of timestamptz,
                ADD COLUMN churn_type text CHECK (churn_type IN ('active', 'passive')),
                ADD COLUMN churn_cause text
                    CHECK (churn_cause IN ('natural', 'competitive', 'service_failure', 'abandoned', 'other'));
            UPDATE retention_alerts SET as_of = scored_at, outcome_as_of = scored_at;
            ALTER TABLE retention_alerts
                ALTER COLUMN as_of SET NOT NULL,
                ALTER COLUMN outcome_as_of SET NOT NULL,
                DROP CONSTRAINT retention_alerts_delivery_check,
                ADD CONSTRAINT retention_alerts_delivery_check CHECK (delivery IN ('queued', 'held', 'control')),
                ADD CONSTRAINT retention_alerts_control_unpublished CHECK (alert_group = 'alerted' OR delivery = 'control');
            -- A row written without them (an older writer, a hand-made fixture) is as of its scoring time.
            CREATE FUNCTION crm_retention_alerts_as_of() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.as_of := coalesce(NEW.as_of, NEW.scored_at);
                NEW.outcome_as_of := coalesce(NEW.outcome_as_of, NEW.as_of);
                RETURN NEW;
            END
            $$;
            CREATE TRIGGER retention_alerts_as_of BEFORE INSERT ON retention_alerts
                FOR EACH ROW WHEN (NEW.as_of IS NULL OR NEW.outcome_as_of IS NULL)
                EXECUTE FUNCTION crm_retention_alerts_as_of();
            CREATE INDEX retention_alerts_as_of ON retention_alerts (as_of);
            -- Outcome updates rewrite recent alerts in place (heap-only) when their pages have room.
            ALTER TABLE retention_alerts SET (fillfactor = 85);
            CREATE INDEX retention_alerts_control_open ON retention_alerts (as_of)
                WHERE alert_group = 'control' AND status <> 'resolved';

            ALTER TABLE alert_feedback
                ADD COLUMN churn_type text CHECK (churn_type IN ('active', 'passive')),
                ADD COLUMN churn_cause text
                    CHECK (churn_cause IN ('natural', 'competitive', 'service_failure', 'abandoned', 'other'));

            CREATE TABLE alert_outcome_runs (
                model_id bigint PRIMARY KEY,
                as_of timestamptz NOT NULL,
                instance_id text NOT NULL,
                started_at timestamptz NOT NULL DEFAULT now(),
                finished_at timestamptz,
                alerts integer NOT NULL DEFAULT 0
            );
            """
    )
}
