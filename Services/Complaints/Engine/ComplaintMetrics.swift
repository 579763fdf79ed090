import CRMContract
import Foundation
import Metrics

/// The service's metrics, named `crm_complaints_<what>` with small, fixed label sets (desks, categories, targets
/// and levels come from the rules, never from message text).
///
/// | metric | labels | meaning |
/// | --- | --- | --- |
/// | `crm_complaints_routed_total` | desk, category, priority | complaints routed (first time only) |
/// | `crm_complaints_sla_met_total` | desk, target | clocks stopped within their target |
/// | `crm_complaints_sla_breached_total` | desk, target | targets breached (once per complaint and target) |
/// | `crm_complaints_sla_warnings_total` | desk, target | warnings published before a breach |
/// | `crm_complaints_escalations_total` | desk, level | escalations published to `desk.escalations` |
/// | `crm_complaints_first_response_seconds_total` | desk | summed wall-clock time to first response |
/// | `crm_complaints_first_responses_total` | desk | first responses (divide the two for the mean) |
/// | `crm_complaints_status_updates_total` | status | status updates applied |
/// | `crm_complaints_ratings_total` | desk | satisfaction ratings stored |
/// | `crm_complaints_rating_points_total` | desk | their sum (divide by the ratings for the mean) |
/// | `crm_complaints_low_ratings_total` | desk | ratings of 1 or 2 |
/// | `crm_complaints_dead_lettered_total` | reason | dead letters by field at fault |
/// | `crm_complaints_duplicates_total`, `crm_complaints_signals_total`, `crm_complaints_rules_version` | | |
enum ComplaintMetrics {
    static func routed(desk: String, category: String, priority: String) {
        Counter(
            label: "crm_complaints_routed_total",
            dimensions: [("desk", desk), ("category", category), ("priority", priority)]
        ).increment()
    }

    static func clockStopped(_ stop: StatusUpdateWriter.Stop) {
        let dimensions = [("desk", stop.desk), ("target", stop.target.rawValue)]
        Counter(
            label: stop.met ? "crm_complaints_sla_met_total" : "crm_complaints_sla_breached_total",
            dimensions: dimensions
        )
        .increment()
        if stop.target == .firstResponse {
            FloatingPointCounter(
                label: "crm_complaints_first_response_seconds_total",
                dimensions: [("desk", stop.desk)]
            )
            .increment(by: max(stop.elapsed, 0))
            Counter(label: "crm_complaints_first_responses_total", dimensions: [("desk", stop.desk)]).increment()
        }
    }

    static func breached(desk: String, target: SLATarget) {
        Counter(label: "crm_complaints_sla_breached_total", dimensions: [("desk", desk), ("target", target.rawValue)])
            .increment()
    }

    static func warned(desk: String, target: SLATarget) {
        Counter(label: "crm_complaints_sla_warnings_total", dimensions: [("desk", desk), ("target", target.rawValue)])
            .increment()
    }

    static func escalated(desk: String, level: Int) {
        Counter(label: "crm_complaints_escalations_total", dimensions: [("desk", desk), ("level", "\(level)")])
            .increment()
    }

    static func rated(desk: String, rating: Int) {
        Counter(label: "crm_complaints_ratings_total", dimensions: [("desk", desk)]).increment()
        Counter(label: "crm_complaints_rating_points_total", dimensions: [("desk", desk)]).increment(by: rating)
        if rating <= 2 { Counter(label: "crm_complaints_low_ratings_total", dimensions: [("desk", desk)]).increment() }
    }

    static func statusUpdate(_ status: String) {
        Counter(label: "crm_complaints_status_updates_total", dimensions: [("status", status)]).increment()
    }
}
