extension Schema {
    /// Customers registered without an order (`customer.v1`): when and where they registered.
    ///
    /// `registered_at` keeps the earliest registration time heard of; `channel` the latest one sent. A customer first
    /// seen through an order has neither.
    static let customerRegistrations = Migration(
        version: 33,
        name: "customer registrations",
        sql: """
            ALTER TABLE customers ADD COLUMN registered_at timestamptz, ADD COLUMN registration_channel text;
            """
    )

    /// What marketing tools have been told of each customer's lifecycle (`customer-lifecycle.v1` on `crm.lifecycle`).
    ///
    /// - `customer_scores.announced_stage`: the stage of the last lifecycle event, set in the same transaction as the
    ///   score that changed the stage, so each change is announced once whichever replica or run scores it. A
    ///   replay (a rescoring as of a past time) leaves it alone: the present run that follows compares with it, not
    ///   with the replayed past. Existing scores start as announced, so the first run announces no settled stage.
    /// - `customer_scores.purchase_due_for`: the last purchase whose expected successor was announced as due, so the
    ///   sweep announces each expected purchase once. The sweep reads the repeat customers' rows every few minutes
    ///   without an index: one on the expected date would be rewritten with nearly every score.
    static let lifecycleAnnouncements = Migration(
        version: 34,
        name: "lifecycle announcements",
        sql: """
            ALTER TABLE customer_scores ADD COLUMN announced_stage text, ADD COLUMN purchase_due_for timestamptz;
            UPDATE customer_scores SET announced_stage = lifecycle_stage, purchase_due_for = last_order_at;
            """
    )
}

extension Schema {
    /// Satisfaction, kept per complaint and weighed by the retention alerts.
    ///
    /// - `complaints.satisfaction`, `satisfaction_at`: the customer's latest rating (1 to 5) of the complaint's
    ///   handling, from the desks' `complaint-status.v1` updates (the one with the latest `at`), filled from the
    ///   updates already stored.
    /// - `alert_complaint_facts`: what `crm-alerts` heard of complaints after their receipt, once per complaint and
    ///   kind: a low rating (`rating`), a breached resolution target (`breach`); `evaluated` once an evaluation
    ///   weighed it, like `alert_complaints`.
    static let satisfaction = Migration(
        version: 35,
        name: "satisfaction",
        sql: """
            ALTER TABLE complaints ADD COLUMN satisfaction smallint CHECK (satisfaction BETWEEN 1 AND 5),
                ADD COLUMN satisfaction_at timestamptz;
            UPDATE complaints k SET satisfaction = e.satisfaction, satisfaction_at = e.at
            FROM (SELECT DISTINCT ON (complaint_id) complaint_id, satisfaction, at FROM complaint_status_events
                  WHERE satisfaction IS NOT NULL ORDER BY complaint_id, at DESC, id DESC) e
            WHERE k.complaint_id = e.complaint_id;
            CREATE INDEX complaints_customer_rated ON complaints (customer_id) WHERE satisfaction IS NOT NULL;

            CREATE TABLE alert_complaint_facts (
                complaint_id text NOT NULL,
                kind text NOT NULL CHECK (kind IN ('rating', 'breach')),
                customer_id text NOT NULL,
                rating smallint CHECK (rating BETWEEN 1 AND 5),
                target text CHECK (target IN ('first_response', 'resolution')),
                at timestamptz NOT NULL,
                evaluated boolean NOT NULL DEFAULT false,
                recorded_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (complaint_id, kind)
            );
            CREATE INDEX alert_complaint_facts_pending ON alert_complaint_facts (customer_id) WHERE NOT evaluated;
            """
    )

    /// `scoring_models.value_quantiles`: the distribution of the base's predicted values a full rescoring found
    /// (`ValueQuantiles` in the scoring service), and `crm_value_percentile`, which reads a value's percentile from
    /// its breakpoints (`q`, ascending, values with four decimals as `customer_scores` stores them): the share of the
    /// base below the value, interpolated between the two breakpoints around it. `width_bucket` counts the
    /// breakpoints at or below its operand by binary search; half a ten-thousandth below the value, that is those
    /// strictly below it.
    static let valueQuantiles = Migration(
        version: 36,
        name: "value quantiles",
        sql: """
            ALTER TABLE scoring_models ADD COLUMN value_quantiles jsonb;
            CREATE FUNCTION crm_value_percentile(v double precision, q double precision[]) RETURNS numeric
                LANGUAGE sql IMMUTABLE PARALLEL SAFE
                RETURN CASE
                    WHEN v IS NULL OR coalesce(cardinality(q), 0) = 0 THEN NULL
                    WHEN v <= q[1] THEN 0
                    WHEN v > q[cardinality(q)] THEN 1
                    ELSE round(((width_bucket(v - 0.00005, q) - 1)
                                + coalesce((v - q[width_bucket(v - 0.00005, q)])
                                           / nullif(q[width_bucket(v - 0.00005, q) + 1]
                                                    - q[width_bucket(v - 0.00005, q)], 0), 0))::numeric
                               / greatest(cardinality(q) - 1, 1), 4)
                END;
            """
    )
}
