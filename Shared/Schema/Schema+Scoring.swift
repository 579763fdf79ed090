extension Schema {
    /// What `crm-scoring` keeps: the fitted models, every customer's current score, and the history of
    /// lifecycle-stage and tier changes.
    ///
    /// `customer_scores` is the one row per scored customer that the other services read (complaint
    /// enrichment, alert sweeps, `crm customer`). Money columns are in the base currency, net of refunds,
    /// and on margin where orders carry a cost. The table leaves room on its pages (fillfactor 70) so the full
    /// rescoring's rewrite of every row can update in place (HOT) rather than touch every index.
    static let scoring = Migration(
        version: 3,
        name: "scoring",
        sql: """
            CREATE TABLE scoring_models (
                model_id bigserial PRIMARY KEY,
                as_of timestamptz NOT NULL,
                as_of_requested boolean NOT NULL,
                fitted_at timestamptz NOT NULL DEFAULT now(),
                time_unit_days double precision NOT NULL,
                customers integer NOT NULL,
                bgnbd jsonb,
                gamma_gamma jsonb,
                rfm_breakpoints jsonb,
                tier_cutoffs jsonb,
                settings jsonb NOT NULL,
                statistics jsonb NOT NULL DEFAULT '{}'
            );
            CREATE INDEX scoring_models_fitted ON scoring_models (fitted_at DESC);

            CREATE TABLE customer_scores (
                customer_id text PRIMARY KEY REFERENCES customers (customer_id),
                model_id bigint REFERENCES scoring_models (model_id),
                scored_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now(),
                orders_count integer NOT NULL,
                transactions integer NOT NULL,
                first_order_at timestamptz,
                last_order_at timestamptz,
                recency_days double precision,
                monetary_total numeric(19, 4) NOT NULL,
                monetary_average numeric(19, 4) NOT NULL,
                margin_rate double precision,
                rfm_r smallint,
                rfm_f smallint,
                rfm_m smallint,
                clv_historical numeric(19, 4) NOT NULL,
                clv_simple numeric(19, 4) NOT NULL,
                clv_predicted numeric(19, 4),
                p_alive double precision,
                expected_purchases_90d double precision,
                expected_interval_days double precision,
                lifecycle_stage text NOT NULL,
                lifecycle_rule text NOT NULL,
                tier text NOT NULL,
                grid text,
                grid_axis text,
                strategy text
            ) WITH (fillfactor = 70);
            CREATE INDEX customer_scores_tier ON customer_scores (tier, lifecycle_stage);

            CREATE TABLE customer_score_history (
                id bigserial PRIMARY KEY,
                customer_id text NOT NULL REFERENCES customers (customer_id),
                changed_at timestamptz NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now(),
                model_id bigint REFERENCES scoring_models (model_id),
                previous_lifecycle_stage text,
                lifecycle_stage text NOT NULL,
                lifecycle_rule text NOT NULL,
                previous_tier text,
                tier text NOT NULL,
                grid text,
                p_alive double precision,
                clv_predicted numeric(19, 4)
            );
            CREATE INDEX customer_score_history_customer ON customer_score_history (customer_id, changed_at);
            """
    )
}

extension Schema {
    /// A score's `model_id` names the model that scored it without a foreign key: a full rescoring moves every
    /// score to its new model, and the key made PostgreSQL look the model up and lock it once per score, a large
    /// share of rewriting a million scores (BENCHMARKS.md, "Design choices"). Models are only ever added, so the reference cannot dangle through crm.
    static let scoreModelReference = Migration(
        version: 9,
        name: "score model reference",
        sql: """
            ALTER TABLE customer_scores DROP CONSTRAINT IF EXISTS customer_scores_model_id_fkey;
            """
    )
}

extension Schema {
    /// Three purchase models and their holdout validations. `scoring_models` keeps MBG/NBD and Pareto/NBD beside
    /// BG/NBD (each with its log-likelihood and standard errors in its JSON), the model the scores carry
    /// (`selected_model`) and why (`selection`), and the fits that failed (`fit_failures`). `scoring_validations` keeps every holdout validation with the
    /// model it validated: the one stored by the same full rescoring, or the newest when `crm model validate`
    /// ran. Rows of both are only ever added.
    static let purchaseModels = Migration(
        version: 14,
        name: "purchase models and validations",
        sql: """
            ALTER TABLE scoring_models
                ADD COLUMN mbgnbd jsonb,
                ADD COLUMN pareto_nbd jsonb,
                ADD COLUMN selected_model text CHECK (selected_model IN ('bgnbd', 'mbgnbd', 'pareto_nbd')),
                ADD COLUMN selection jsonb,
                ADD COLUMN fit_failures jsonb NOT NULL DEFAULT '{}';

            CREATE TABLE scoring_validations (
                validation_id bigserial PRIMARY KEY,
                model_id bigint REFERENCES scoring_models (model_id),
                validated_at timestamptz NOT NULL DEFAULT now(),
                scheduled boolean NOT NULL,
                calibration_end timestamptz NOT NULL,
                holdout_end timestamptz NOT NULL CHECK (holdout_end > calibration_end),
                result jsonb NOT NULL
            );
            CREATE INDEX scoring_validations_model ON scoring_validations (model_id);
            """
    )
}
