extension Schema {
    /// The whole base as analysts read it: named RFM segments, operators' flags on customers, the base report of
    /// every full rescoring, and indexes for the list filters.
    ///
    /// - `customer_scores.rfm_segment` is the named segment of the R, F and M scores (scoring's `RFMSegment` map;
    ///   existing scores are backfilled here with the same map). `rescored_tier` and `rescored_stage` are the tier
    ///   and stage the latest full rescoring gave (incremental scorings leave them alone), so the next full
    ///   rescoring knows who moved between the two.
    /// - `customer_flags` holds the flags in force, one row per customer and flag; `customer_flag_events` every
    ///   flag and unflag with its note, for the customer's timeline. Only `crm` writes them. Like orders, a flag
    ///   names its customer without a foreign key: `crm` checks the customer exists, and intake's hot path keeps
    ///   away from referential triggers on `customers`.
    /// - `base_reports` keeps one report per full rescoring (`crm report` reads the newest row).
    /// - Indexes end with `customer_id`, the keyset order of `GET /customers`, so a page of one tier and stage
    ///   (or segment, or cell) is read in order straight from the index. They replace `customer_scores_tier`.
    static let segments = Migration(
        version: 13,
        name: "segments, flags and base reports",
        sql: """
            ALTER TABLE customer_scores
                ADD COLUMN rfm_segment text,
                ADD COLUMN rescored_tier text,
                ADD COLUMN rescored_stage text;
            UPDATE customer_scores
            SET rfm_segment = (ARRAY[
                    'new', 'potential_loyalist', 'potential_loyalist', 'champions', 'champions',
                    'promising', 'potential_loyalist', 'potential_loyalist', 'loyal', 'loyal',
                    'about_to_sleep', 'about_to_sleep', 'need_attention', 'loyal', 'loyal',
                    'hibernating', 'hibernating', 'at_risk', 'at_risk', 'cannot_lose',
                    'lost', 'lost', 'at_risk', 'at_risk', 'cannot_lose'
                ])[(5 - rfm_r) * 5 + (rfm_f + rfm_m) / 2]
            WHERE rfm_r BETWEEN 1 AND 5 AND rfm_f BETWEEN 1 AND 5 AND rfm_m BETWEEN 1 AND 5;

            DROP INDEX IF EXISTS customer_scores_tier;
            CREATE INDEX customer_scores_tier_stage ON customer_scores (tier, lifecycle_stage, customer_id);
            CREATE INDEX customer_scores_stage ON customer_scores (lifecycle_stage, customer_id);
            CREATE INDEX customer_scores_segment ON customer_scores (rfm_segment, customer_id);
            CREATE INDEX customer_scores_grid ON customer_scores (grid, customer_id);
            CREATE INDEX customer_scores_last_order ON customer_scores (last_order_at);

            CREATE TABLE customer_flags (
                customer_id text NOT NULL,
                flag text NOT NULL CHECK (flag IN ('fraud', 'bad_debt', 'opt_out', 'do_not_retain')),
                note text,
                flagged_at timestamptz NOT NULL DEFAULT now(),
                flagged_by text NOT NULL DEFAULT current_user,
                PRIMARY KEY (customer_id, flag)
            );
            CREATE INDEX customer_flags_flag ON customer_flags (flag, customer_id);
            CREATE TABLE customer_flag_events (
                id bigserial PRIMARY KEY,
                customer_id text NOT NULL,
                flag text NOT NULL,
                action text NOT NULL CHECK (action IN ('flagged', 'unflagged')),
                note text,
                at timestamptz NOT NULL DEFAULT now(),
                by_user text NOT NULL DEFAULT current_user
            );
            CREATE INDEX customer_flag_events_customer ON customer_flag_events (customer_id, at);

            CREATE TABLE base_reports (
                report_id bigserial PRIMARY KEY,
                model_id bigint,
                as_of timestamptz NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                report json NOT NULL
            );
            """
    )
}
