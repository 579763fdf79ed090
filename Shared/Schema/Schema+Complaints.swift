extension Schema {
    /// What `crm-complaints` keeps: the complaint rules operators load, every complaint with its decision and SLA
    /// state, the desks' status updates, and the warnings and escalations published.
    ///
    /// - `complaint_rules` holds every rules document ever loaded (`crm rules load`, or the default file on first
    ///   start); the highest version is in force. Services pick up a new version without a restart.
    /// - `complaints.next_check_at` is when the SLA sweeper must look at a complaint again; NULL when nothing can
    ///   fall due (resolved, or every escalation level used).
    /// - `complaint_status_events` is unique per (complaint, status, instant), so a redelivered update is a no-op;
    ///   the SLA clock is rebuilt from these events in time order.
    /// - `complaint_escalations` is unique per (complaint, level) and `complaint_sla_warnings` per (complaint,
    ///   target): nothing is escalated or warned twice, whichever replica sweeps.
    static let complaints = Migration(
        version: 4,
        name: "complaints",
        sql: """
            CREATE TABLE complaint_rules (
                version integer PRIMARY KEY CHECK (version >= 1),
                document text NOT NULL,
                checksum text NOT NULL,
                source text NOT NULL,
                loaded_at timestamptz NOT NULL DEFAULT now()
            );

            CREATE TABLE complaints (
                complaint_id text PRIMARY KEY,
                customer_id text NOT NULL,
                received_at timestamptz NOT NULL,
                channel text NOT NULL,
                language text,
                order_id text,
                category_hint text,
                subject text,
                body text,
                message text NOT NULL,
                category text NOT NULL,
                category_source text NOT NULL CHECK (category_source IN ('hint', 'rules', 'fallback')),
                category_score integer NOT NULL,
                severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
                priority text NOT NULL CHECK (priority IN ('p1', 'p2', 'p3', 'p4')),
                signals text[] NOT NULL DEFAULT '{}',
                matched text[] NOT NULL DEFAULT '{}',
                desk text NOT NULL,
                matched_rule text NOT NULL,
                rules_version integer NOT NULL,
                customer_tier text,
                lifecycle_stage text,
                clv numeric(19, 4),
                orders_count integer,
                open_complaints integer NOT NULL,
                routed text NOT NULL,
                first_response_due timestamptz,
                resolution_due timestamptz,
                state text NOT NULL DEFAULT 'awaiting_response'
                    CHECK (state IN ('awaiting_response', 'in_progress', 'resolved')),
                responded_at timestamptz,
                resolved_at timestamptz,
                first_response_outcome text CHECK (first_response_outcome IN ('met', 'breached')),
                resolution_outcome text CHECK (resolution_outcome IN ('met', 'breached')),
                escalation_level integer NOT NULL DEFAULT 0 CHECK (escalation_level >= 0),
                next_check_at timestamptz,
                routed_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX complaints_customer ON complaints (customer_id, received_at);
            CREATE INDEX complaints_open ON complaints (customer_id) WHERE state <> 'resolved';
            CREATE INDEX complaints_next_check ON complaints (next_check_at) WHERE next_check_at IS NOT NULL;
            CREATE INDEX complaints_desk ON complaints (desk, state);

            CREATE TABLE complaint_status_events (
                id bigserial PRIMARY KEY,
                complaint_id text NOT NULL REFERENCES complaints (complaint_id),
                status text NOT NULL CHECK (status IN ('acknowledged', 'resolved', 'reopened')),
                at timestamptz NOT NULL,
                agent text,
                resolution text,
                satisfaction smallint CHECK (satisfaction BETWEEN 1 AND 5),
                message text NOT NULL,
                received_at timestamptz NOT NULL DEFAULT now(),
                UNIQUE (complaint_id, status, at)
            );

            CREATE TABLE complaint_escalations (
                complaint_id text NOT NULL REFERENCES complaints (complaint_id),
                level integer NOT NULL CHECK (level >= 1),
                target text NOT NULL CHECK (target IN ('first_response', 'resolution')),
                breached_at timestamptz NOT NULL,
                desk text NOT NULL,
                escalated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (complaint_id, level)
            );

            CREATE TABLE complaint_sla_warnings (
                complaint_id text NOT NULL REFERENCES complaints (complaint_id),
                target text NOT NULL CHECK (target IN ('first_response', 'resolution')),
                due_at timestamptz NOT NULL,
                desk text NOT NULL,
                warned_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (complaint_id, target)
            );
            """
    )
}
