import CRMContract
import CRMPostgres
import CRMSupport
import Foundation

/// Judges every alert's observed outcome from the orders: `returned` once the customer made a purchase after the
/// alert's `as_of` and within the outcome window, `not_returned` once the window has passed without one, `pending`
/// before; `returned_value` is the net value (in the base currency, less refunds of those purchases) of the
/// purchases in the window.
///
/// An outcome is judged *as of* a time (`outcome_as_of`): only orders up to it count, and the window has passed only
/// when it reaches `as_of` + window. So a replayed rescoring judges its alerts as of its own as-of time, whatever the
/// orders table already holds beyond it. Two paths move that time forward, never back:
/// - ``ordersArrived(_:on:)``: orders reached intake; each named customer's alerts are judged again as of the newest
///   of those orders (or as before, for an order that arrived late: it is counted all the same).
/// - ``judgeAll(asOf:chunk:pool:)``: a full rescoring; every alert raised up to its as-of time whose window was still
///   open is judged as of it.
///
/// A control alert is closed when its window has passed, as a desk closes an alerted one, so the cooldown runs for
/// both groups and a control customer is not barred from alerts for ever.
public struct OutcomeTracker: Sendable {
    /// The outcome window.
    public let window: Duration

    /// A tracker judging with `window` (`CRM_ALERTS_OUTCOME_WINDOW`).
    public init(window: Duration) {
        self.window = window
    }

    /// Judges again the alerts of customers who ordered, each as of the newest order named (at least as of their
    /// previous judgement); returns the alerts whose outcome, value or judgement time changed.
    @discardableResult
    func ordersArrived(_ orders: [String: Date], on connection: isolated PostgresConnection) throws -> Int {
        guard !orders.isEmpty else { return 0 }
        let customers = orders.keys.sorted()
        return try judge(
            targets: """
                SELECT a.alert_id, a.customer_id, a.as_of, greatest(a.outcome_as_of, least(x.t, now())) AS ref
                FROM retention_alerts a JOIN unnest($2::text[], $3::timestamptz[]) AS x(c, t) ON a.customer_id = x.c
                """,
            [customers, customers.map { orders[$0] }],
            on: connection
        )
    }

    /// Judges every alert raised up to `asOf` whose window was still open at its last judgement, as of `asOf` (or
    /// as of its later judgement), `chunk` customers per transaction; returns the alerts changed.
    ///
    /// An alert judged after its window has passed is final, save for a late order of its customer, which
    /// ``ordersArrived(_:on:)`` judges; so each rescoring rewrites only the alerts of the last window or so.
    public func judgeAll(asOf: Date, chunk: Int = 5_000, pool: PostgresPool) async throws -> Int {
        var changed = 0
        var after = ""
        while true {
            let customers = try await pool.query(
                """
                SELECT DISTINCT customer_id FROM retention_alerts
                WHERE as_of <= $1 AND outcome_as_of < as_of + make_interval(secs => $4) AND customer_id > $2
                ORDER BY customer_id LIMIT $3
                """,
                [asOf, after, chunk, window.seconds]
            ).map { try $0.decode(0, as: String.self) }
            guard let last = customers.last else { break }
            let tracker = self
            changed += try await pool.transaction { connection in
                try tracker.judge(
                    targets: """
                        SELECT a.alert_id, a.customer_id, a.as_of, greatest(a.outcome_as_of, $3::timestamptz) AS ref
                        FROM retention_alerts a
                        WHERE a.customer_id = ANY($2::text[]) AND a.as_of <= $3
                          AND a.outcome_as_of < a.as_of + make_interval(secs => $1)
                        """,
                    [customers, asOf],
                    on: connection
                )
            }
            after = last
        }
        return changed
    }

    /// Judges the alerts `targets` selects (`alert_id`, `customer_id`, `as_of`, `ref`: the time to judge at, rows of
    /// `retention_alerts a` locked in alert-id order; its parameters start at `$2`, `$1` is the window in seconds),
    /// closes control alerts whose window has passed, and returns the alerts changed.
    ///
    /// Rows are locked in alert-id order, so two statements judging overlapping alerts (two replicas' batches, a
    /// batch and a full rescoring's update) wait for each other rather than deadlock; no advisory lock is taken, so a
    /// batch naming thousands of customers takes no more than its alerts' row locks.
    private func judge(
        targets: String,
        _ parameters: [(any PostgresEncodable)?],
        on connection: isolated PostgresConnection
    ) throws -> Int {
        let rows = try connection.query(
            """
            WITH t AS (\(targets) ORDER BY a.alert_id FOR UPDATE OF a),
            judged AS (
                SELECT t.alert_id, t.as_of, t.ref, count(p.order_id) AS purchases, min(p.occurred_at) AS first_return,
                       greatest(coalesce(sum(p.amount_base - coalesce(rf.refunded, 0)), 0), 0)::numeric(19, 4) AS value
                FROM t
                LEFT JOIN orders p ON p.customer_id = t.customer_id AND p.kind = 'purchase' AND NOT p.held
                    AND p.occurred_at > t.as_of AND p.occurred_at <= least(t.as_of + make_interval(secs => $1), t.ref)
                LEFT JOIN LATERAL (
                    SELECT sum(r.amount_base) AS refunded FROM orders r
                    WHERE p.order_id IS NOT NULL AND r.original_order_id = p.order_id AND r.kind = 'refund'
                      AND NOT r.held AND r.occurred_at <= t.ref
                ) rf ON true
                GROUP BY t.alert_id, t.as_of, t.ref
            ),
            decided AS (
                SELECT alert_id, ref, first_return, value,
                       CASE WHEN purchases > 0 THEN 'returned'
                            WHEN ref >= as_of + make_interval(secs => $1) THEN 'not_returned'
                            ELSE 'pending' END AS outcome,
                       ref >= as_of + make_interval(secs => $1) AS window_passed
                FROM judged
            ),
            changed AS (
                UPDATE retention_alerts a SET
                    observed_outcome = d.outcome, returned_value = d.value, returned_at = d.first_return,
                    outcome_as_of = d.ref,
                    status = CASE WHEN a.alert_group = 'control' AND d.window_passed THEN 'resolved' ELSE a.status END,
                    resolved_at = CASE WHEN a.alert_group = 'control' AND d.window_passed AND a.status <> 'resolved'
                                       THEN a.as_of + make_interval(secs => $1) ELSE a.resolved_at END
                FROM decided d
                WHERE a.alert_id = d.alert_id
                  AND ((a.observed_outcome, a.returned_value, a.returned_at, a.outcome_as_of)
                           IS DISTINCT FROM (d.outcome, d.value, d.first_return, d.ref)
                       OR (a.alert_group = 'control' AND d.window_passed AND a.status <> 'resolved'))
                RETURNING a.alert_id, a.alert_group = 'control' AND a.status = 'resolved' AS closed, a.resolved_at
            ),
            closing AS (
                UPDATE retention_alert_reasons r SET open = false, closed_at = c.resolved_at
                FROM changed c WHERE c.closed AND r.alert_id = c.alert_id AND r.open
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM changed)::int, (SELECT count(*) FROM closing)::int
            """,
            [window.seconds] + parameters
        )
        return try rows.first?.decode(0, as: Int.self) ?? 0
    }
}
