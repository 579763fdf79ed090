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
    /// (``ValueQuantiles`` in the scoring service), from which the customer object reads its contribution percentile.
    static let valueQuantiles = Migration(
        version: 36,
        name: "value quantiles",
        sql: """
            ALTER TABLE scoring_models ADD COLUMN value_quantiles jsonb;
            """
    )
}

extension Schema {
    /// The scores whose stage has not been announced yet, indexed by themselves: a full rescoring of the present
    /// announces them from this index instead of joining every stored score with every staged one (18 s of the next
    /// day at ten million customers, for a few thousand events). The index holds only those rows, normally a day's
    /// stage changes; after a replay, every changed customer until the present run has announced it. Neither of its
    /// columns changes for a score that keeps its stage, so rewriting such a score stays heap-only.
    static let unannouncedStages = Migration(
        version: 39,
        name: "unannounced stages",
        sql: """
            CREATE INDEX customer_scores_unannounced ON customer_scores (customer_id)
                WHERE announced_stage IS DISTINCT FROM lifecycle_stage;
            """
    )
}
