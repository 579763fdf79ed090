/// The HELP text of every metric the executables export, in one table: `/metrics` writes a `# HELP` line for each
/// (`promtool check metrics` requires one), and a unit test holds every metric label in the sources to this table.
///
/// Metrics are created through swift-metrics (`Counter(label:)`, `Gauge(label:)`, ...) everywhere; the factory
/// (``HelpfulMetricsFactory``) looks their text up here. A name is never also registered directly with the
/// Prometheus registry: the registry refuses one name with two kinds or two texts, and stops the process.
public enum MetricCatalogue {
    /// Metric name → HELP text.
    public static let help: [String: String] = [
        // The process and the build (registered directly, under names swift-metrics never uses).
        "crm_build_info": "The executable's version and service name; always 1.",
        "process_cpu_seconds_total": "User and system CPU time spent by the process, in seconds.",
        "process_resident_memory_bytes": "Resident memory of the process, in bytes.",
        "process_virtual_memory_bytes": "Virtual memory of the process, in bytes.",
        "process_open_fds": "File descriptors the process holds open.",
        "process_max_fds": "The process's limit on open file descriptors.",
        "process_start_time_seconds": "When the process started, in seconds since the Unix epoch.",
        // Shared floors.
        "crm_amqp_messages_consumed_total": "Messages taken from the queue and settled (processed or dead-lettered).",
        "crm_amqp_dead_lettered_total": "Messages published to the queue's dead letters, by the rejection's code.",
        "crm_amqp_batch_size": "Messages per batch taken from the queue.",
        "crm_amqp_batch_seconds": "Time from taking a batch to acknowledging it, in seconds.",
        "crm_outbox_published_total": "Outbox messages published to the broker and confirmed, by source service.",
        "crm_outbox_publish_failures_total": "Outbox publishes that failed and will be retried, by source service.",
        // Intake.
        "crm_intake_orders_accepted_total": "Orders stored for the first time.",
        "crm_intake_customers_total":
            "customer.v1 registrations by result: stored (new or changed) or unchanged (nothing new).",
        "crm_intake_duplicates_total": "Orders received again with the same content (no-ops).",
        "crm_intake_conflicts_total": "Orders received again with other content (dead-lettered).",
        "crm_intake_held_refunds_refused_total": "Held refunds their purchase refused once it arrived (dead-lettered).",
        "crm_intake_batch_size": "Orders per stored batch.",
        "crm_intake_batch_seconds": "Time to store a batch of orders, in seconds.",
        "crm_intake_held_refunds": "Refunds held until their purchase arrives.",
        "crm_intake_held_refund_age_seconds": "Age of the oldest held refund, in seconds (0 when none).",
        // Scoring.
        "crm_scoring_rescore_seconds": "Duration of a full rescoring, in seconds.",
        "crm_scoring_grid_customers":
            "Customers per nine-grid cell (value tier x lifecycle group), read from the database.",
        "crm_scoring_last_full_rescore_timestamp_seconds":
            "When the newest full rescoring finished, in seconds since the Unix epoch (read from the database).",
        "crm_scoring_customers_scored_total": "Customers scored, by mode.",
        "crm_scoring_events_total": "customer.scored events written to the outbox, by mode.",
        "crm_scoring_lifecycle_events_total":
            "customer-lifecycle.v1 events written to the outbox for crm.lifecycle, by event (stage_changed, purchase_due).",
        "crm_scoring_lifecycle_suppressed_total":
            "Lifecycle events not published because the customer is flagged, by flag (opt_out).",
        "crm_scoring_batch_seconds": "Time to score a batch of order.accepted events, in seconds.",
        "crm_scoring_model_fit_failures_total":
            "Purchase or spend model fits that failed in a full rescoring (the previous fit kept), by model.",
        "crm_scoring_model_holdout_mae":
            "Mean absolute error of each purchase model's holdout transactions in this replica's newest scheduled "
            + "validation, by model.",
        // Console.
        "crm_console_requests_total": "Console requests answered, by page (a closed set of names) and status.",
        "crm_console_response_seconds": "Time to answer a console request, by page, in seconds.",
        // Alerts.
        "crm_alerts_evaluations_total": "Customers evaluated for retention alerts, by source.",
        "crm_alerts_raised_total": "Retention alerts raised, by priority.",
        "crm_alerts_overflow_total": "Alerts held back by the daily cap of their priority's queue.",
        "crm_alerts_suppressed_total": "Alert reasons held back, by cause (open alert, cool-down).",
        "crm_alerts_unpublishable_total": "Alerts that could not be written as a message.",
        "crm_alerts_released_total": "Held alerts published on a later day, by priority.",
        "crm_alerts_held": "Alerts held by the daily cap and waiting, by priority.",
        "crm_alerts_feedback_total": "Alert feedback applied, by status.",
        "crm_alerts_retention_rate_by_tier":
            "Retained / (retained + lost) among resolved alerts, by tier; absent until a tier has feedback.",
        "crm_alerts_retention_rate_by_reason":
            "Retained / (retained + lost) among resolved alerts, by reason; absent until a reason has feedback.",
        "crm_alerts_sweep_seconds": "Duration of a sweep of the stored scores, in seconds.",
        "crm_alerts_group_total": "Retention alerts raised, by group (alerted, control: stored, never published).",
        "crm_alerts_suppressed_by_flag_total": "Alerts not raised because the customer carries a flag, by flag.",
        "crm_alerts_observed_outcomes":
            "Alerts by observed outcome from the orders (returned, not_returned, pending), by group.",
        "crm_alerts_return_rate":
            "Returned / (returned + not returned) among alerts, by group; absent until a group has an outcome.",
        "crm_alerts_uplift":
            "Return rate of the alerted group minus the control group's, with its 95% interval (bound low, high).",
        "crm_alerts_outcome_update_seconds": "Duration of a full rescoring's update of observed outcomes, in seconds.",
        // Complaints.
        "crm_complaints_routed_total": "Complaints routed, by desk, category and priority.",
        "crm_complaints_sla_met_total": "SLA clocks stopped within their target, by desk and target.",
        "crm_complaints_sla_breached_total": "SLA targets breached, by desk and target.",
        "crm_complaints_sla_warnings_total": "SLA warnings published before a breach, by desk and target.",
        "crm_complaints_escalations_total": "Escalations published to desk.escalations, by desk and level.",
        "crm_complaints_first_response_seconds_total": "Summed wall-clock time to first response, by desk, in seconds.",
        "crm_complaints_first_responses_total": "First responses, by desk.",
        "crm_complaints_status_updates_total": "Complaint status updates applied, by status.",
        "crm_complaints_duplicates_total": "Complaints received again with the same content (no-ops).",
        "crm_complaints_signals_total":
            "Complaints of valuable customers, and low ratings, signalled to crm-alerts.",
        "crm_complaints_ratings_total": "Satisfaction ratings (1 to 5) stored with complaint status updates, by desk.",
        "crm_complaints_rating_points_total":
            "Sum of the satisfaction ratings stored, by desk; divided by crm_complaints_ratings_total, the mean.",
        "crm_complaints_low_ratings_total": "Satisfaction ratings of 1 or 2, by desk.",
        "crm_complaints_batch_seconds": "Time to route a batch of complaints, in seconds.",
        "crm_complaints_sweep_seconds": "Duration of an SLA sweep, in seconds.",
        "crm_complaints_rules_version": "The complaint rules version in force.",
    ]

    /// The HELP text of `name`: the table's, or (for a metric added without one, which the unit test reports) a text
    /// naming it, so that `/metrics` stays valid.
    public static func text(for name: String) -> String {
        help[name] ?? "\(name) (no description in MetricCatalogue)"
    }
}
