import CRMContract
import CRMSupport
import Metrics

/// The service's metrics, recorded after the work they count has committed.
///
/// | metric | labels | meaning |
/// | --- | --- | --- |
/// | `crm_alerts_raised_total` | `priority` | alerts raised (queued or held) |
/// | `crm_alerts_overflow_total` | `priority` | alerts held back by the daily cap of their queue |
/// | `crm_alerts_released_total` | `priority` | held alerts published on a later day |
/// | `crm_alerts_held` | `priority` | alerts waiting for room in their queue now |
/// | `crm_alerts_suppressed_total` | `cause` | reasons not raised: `open` alert or `cooldown` |
/// | `crm_alerts_evaluations_total` | `source` | customers evaluated, by `event`, `complaint` or `sweep` |
/// | `crm_alerts_feedback_total` | `status` | desk feedback stored |
/// | `crm_alerts_retention_rate_by_tier` | `tier` | retained ÷ (retained + lost) of resolved alerts |
/// | `crm_alerts_retention_rate_by_reason` | `reason` | the same per reason |
/// | `crm_alerts_sweep_seconds` | | duration of each sweep |
/// | `crm_alerts_group_total` | `group` | alerts raised, by `alerted` and `control` |
/// | `crm_alerts_suppressed_by_flag_total` | `flag` | alerts not raised because the customer is flagged |
/// | `crm_alerts_observed_outcomes` | `group`, `outcome` | alerts by observed outcome now |
/// | `crm_alerts_return_rate` | `group` | returned ÷ (returned + not returned) |
/// | `crm_alerts_uplift` | `bound` | alerted − control return rate: `estimate`, `low`, `high` (95%) |
/// | `crm_alerts_outcome_update_seconds` | | duration of a full rescoring's outcome update |
struct AlertsMetrics: Sendable {
    /// The work a transaction committed, to count.
    struct Tally: Sendable {
        var evaluated = 0
        var raised: [AlertPriority: Int] = [:]
        var held: [AlertPriority: Int] = [:]
        var suppressed: [SuppressionCause: Int] = [:]
        var unpublishable = 0
        var groups: [AlertGroup: Int] = [:]
        var suppressedByFlag: [CustomerFlag: Int] = [:]

        var alerts: Int { raised.values.reduce(0, +) }

        mutating func add(_ other: Tally) {
            evaluated += other.evaluated
            raised.merge(other.raised, uniquingKeysWith: +)
            held.merge(other.held, uniquingKeysWith: +)
            suppressed.merge(other.suppressed, uniquingKeysWith: +)
            unpublishable += other.unpublishable
            groups.merge(other.groups, uniquingKeysWith: +)
            suppressedByFlag.merge(other.suppressedByFlag, uniquingKeysWith: +)
        }
    }

    func record(_ tally: Tally, source: String) {
        Counter(label: "crm_alerts_evaluations_total", dimensions: [("source", source)]).increment(by: tally.evaluated)
        for (priority, count) in tally.raised where count > 0 {
            Counter(label: "crm_alerts_raised_total", dimensions: [("priority", priority.rawValue)]).increment(
                by: count
            )
        }
        for (priority, count) in tally.held where count > 0 {
            Counter(label: "crm_alerts_overflow_total", dimensions: [("priority", priority.rawValue)]).increment(
                by: count
            )
        }
        for (cause, count) in tally.suppressed where count > 0 {
            Counter(label: "crm_alerts_suppressed_total", dimensions: [("cause", cause.rawValue)]).increment(by: count)
        }
        if tally.unpublishable > 0 {
            Counter(label: "crm_alerts_unpublishable_total").increment(by: tally.unpublishable)
        }
        for (group, count) in tally.groups where count > 0 {
            Counter(label: "crm_alerts_group_total", dimensions: [("group", group.rawValue)]).increment(by: count)
        }
        for (flag, count) in tally.suppressedByFlag where count > 0 {
            Counter(label: "crm_alerts_suppressed_by_flag_total", dimensions: [("flag", flag.rawValue)]).increment(
                by: count
            )
        }
    }

    /// The observed outcomes per group, the return rates and the uplift with its 95% interval; a rate or uplift that
    /// cannot be computed yet is absent.
    func outcomes(_ report: RetentionReport) {
        for group in report.groups {
            for (outcome, count) in [
                (ObservedOutcome.returned, group.returned), (.notReturned, group.notReturned),
                (.pending, group.pending),
            ] {
                Gauge(
                    label: "crm_alerts_observed_outcomes",
                    dimensions: [("group", group.group.rawValue), ("outcome", outcome.rawValue)]
                ).record(count)
            }
            let rate = Gauge(label: "crm_alerts_return_rate", dimensions: [("group", group.group.rawValue)])
            if let value = group.returnRate { rate.record(value) } else { rate.destroy() }
        }
        for (bound, value) in [
            ("estimate", report.uplift?.estimate), ("low", report.uplift?.low), ("high", report.uplift?.high),
        ] {
            let gauge = Gauge(label: "crm_alerts_uplift", dimensions: [("bound", bound)])
            if let value { gauge.record(value) } else { gauge.destroy() }
        }
    }

    func outcomeUpdate(seconds: Double) {
        Timer(label: "crm_alerts_outcome_update_seconds").recordSeconds(seconds)
    }

    func released(_ counts: [AlertPriority: Int]) {
        for (priority, count) in counts where count > 0 {
            Counter(label: "crm_alerts_released_total", dimensions: [("priority", priority.rawValue)]).increment(
                by: count
            )
        }
    }

    func held(_ counts: [AlertPriority: Int]) {
        for priority in AlertPriority.allCases {
            Gauge(label: "crm_alerts_held", dimensions: [("priority", priority.rawValue)])
                .record(counts[priority] ?? 0)
        }
    }

    func feedback(status: String) {
        Counter(label: "crm_alerts_feedback_total", dimensions: [("status", status)]).increment()
    }

    /// The retention rates per tier and per reason; a tier or reason without retained or lost alerts has no rate, and
    /// its gauge is absent (a rate of 0 would say every alert was lost).
    func retention(_ report: AlertsReport) {
        for (label, dimension, lines) in [
            ("crm_alerts_retention_rate_by_tier", "tier", report.byTier),
            ("crm_alerts_retention_rate_by_reason", "reason", report.byReason),
        ] {
            for line in lines {
                let gauge = Gauge(label: label, dimensions: [(dimension, line.key)])
                if let rate = line.retentionRate { gauge.record(rate) } else { gauge.destroy() }
            }
        }
    }

    func sweep(seconds: Double) {
        Timer(label: "crm_alerts_sweep_seconds").recordSeconds(seconds)
    }
}
