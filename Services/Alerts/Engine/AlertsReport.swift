import CRMContract
import CRMPostgres
import CRMSupport
import Foundation

/// What became of the retention alerts: counts and retention rates per tier and per reason, the alerts held back
/// by the daily caps, and the last sweep. `crm status` prints it; the service exports the rates as gauges.
///
/// The retention rate is retained ÷ (retained + lost) over resolved alerts: `not_contacted` says nothing about
/// whether an alert helps, so it is counted but left out of the rate. An alert with several reasons counts once
/// under each reason; under its tier it counts once, at the tier it was raised at (the better of the previous
/// and current tier).
public struct AlertsReport: Sendable, Hashable, Codable {
    /// One row of the report.
    public struct Line: Sendable, Hashable, Codable {
        /// The tier or reason.
        public var key: String
        public var raised: Int
        public var open: Int
        public var acknowledged: Int
        public var resolved: Int
        public var retained: Int
        public var lost: Int
        public var notContacted: Int
        /// Raised but still waiting for room in their desk queue.
        public var held: Int

        /// retained ÷ (retained + lost); nil before any such outcome.
        public var retentionRate: Double? {
            retained + lost == 0 ? nil : Double(retained) / Double(retained + lost)
        }
    }

    /// The last sweep.
    public struct Sweep: Sendable, Hashable, Codable {
        public var startedAt: Date
        public var finishedAt: Date?
        public var customers: Int
        public var alerts: Int
    }

    /// Per tier, gold first.
    public var byTier: [Line]
    /// Per reason, gravest first.
    public var byReason: [Line]
    /// All alerts.
    public var total: Line
    /// The last sweep, if any.
    public var lastSweep: Sweep?

    /// Reads the report from the database.
    public static func load(pool: PostgresPool) async throws -> AlertsReport {
        let counts = """
            count(*), count(*) FILTER (WHERE a.status = 'open'), count(*) FILTER (WHERE a.status = 'acknowledged'),
            count(*) FILTER (WHERE a.status = 'resolved'), count(*) FILTER (WHERE a.outcome = 'retained'),
            count(*) FILTER (WHERE a.outcome = 'lost'), count(*) FILTER (WHERE a.outcome = 'not_contacted'),
            count(*) FILTER (WHERE a.delivery = 'held' AND a.status = 'open')
            """
        let tiers = try await pool.query("SELECT a.tier, \(counts) FROM retention_alerts a GROUP BY 1").map(line)
        let reasons = try await pool.query(
            "SELECT r.reason, \(counts) FROM retention_alerts a JOIN retention_alert_reasons r USING (alert_id) GROUP BY 1"
        ).map(line)
        let total = try await pool.query("SELECT 'all', \(counts) FROM retention_alerts a").map(line).first
        let sweep = try await pool.query(
            "SELECT started_at, finished_at, customers, alerts FROM alert_sweeps ORDER BY id DESC LIMIT 1"
        ).first.map { row in
            Sweep(
                startedAt: try row.decode(0),
                finishedAt: try row.decodeIfPresent(1),
                customers: try row.decode(2),
                alerts: try row.decode(3)
            )
        }
        let tierOrder = ValueTier.allCases.sorted(by: >).map(\.rawValue)
        let reasonOrder = AlertReason.allCases.sorted().map(\.rawValue)
        func rank(_ order: [String]) -> (Line, Line) -> Bool {
            {
                (order.firstIndex(of: $0.key) ?? order.count, $0.key) < (
                    order.firstIndex(of: $1.key) ?? order.count, $1.key
                )
            }
        }
        return AlertsReport(
            byTier: tiers.sorted(by: rank(tierOrder)),
            byReason: reasons.sorted(by: rank(reasonOrder)),
            total: total
                ?? Line(
                    key: "all",
                    raised: 0,
                    open: 0,
                    acknowledged: 0,
                    resolved: 0,
                    retained: 0,
                    lost: 0,
                    notContacted: 0,
                    held: 0
                ),
            lastSweep: sweep
        )
    }

    private static func line(_ row: PostgresRow) throws -> Line {
        Line(
            key: try row.decode(0),
            raised: try row.decode(1),
            open: try row.decode(2),
            acknowledged: try row.decode(3),
            resolved: try row.decode(4),
            retained: try row.decode(5),
            lost: try row.decode(6),
            notContacted: try row.decode(7),
            held: try row.decode(8)
        )
    }

    /// The report as a JSON-ready object, for `crm status --json`: `total`, `by_tier`, `by_reason` (each line with
    /// `raised`, `open`, `acknowledged`, `resolved`, `retained`, `lost`, `not_contacted`, `held`, `retention_rate`)
    /// and `last_sweep`.
    public var jsonObject: [String: Any] {
        func object(_ line: Line) -> [String: Any] {
            [
                "raised": line.raised, "open": line.open, "acknowledged": line.acknowledged, "resolved": line.resolved,
                "retained": line.retained, "lost": line.lost, "not_contacted": line.notContacted, "held": line.held,
                "retention_rate": line.retentionRate.map { ($0 * 10_000).rounded() / 10_000 } as Any? ?? NSNull(),
            ]
        }
        var result: [String: Any] = [
            "total": object(total),
            "by_tier": Dictionary(uniqueKeysWithValues: byTier.map { ($0.key, object($0)) }),
            "by_reason": Dictionary(uniqueKeysWithValues: byReason.map { ($0.key, object($0)) }),
        ]
        if let lastSweep {
            result["last_sweep"] = [
                "started_at": Timestamp(lastSweep.startedAt).rfc3339,
                "finished_at": lastSweep.finishedAt.map { Timestamp($0).rfc3339 } as Any? ?? NSNull(),
                "customers": lastSweep.customers, "alerts": lastSweep.alerts,
            ]
        } else {
            result["last_sweep"] = NSNull()
        }
        return result
    }

    /// The report as a few aligned lines of text.
    public var text: String {
        func rate(_ line: Line) -> String {
            line.retentionRate.map { String(format: "%5.1f%%", $0 * 100) } ?? "    -"
        }
        func row(_ line: Line) -> String {
            let key = line.key.padding(toLength: 28, withPad: " ", startingAt: 0)
            let numbers = [
                line.raised, line.open, line.acknowledged, line.resolved, line.retained, line.lost,
                line.notContacted, line.held,
            ].map { " " + String($0).leftPadded(to: 6, with: " ") }.joined()
            return "  \(key)\(numbers)  \(rate(line))"
        }
        let header =
            "  " + "".padding(toLength: 28, withPad: " ", startingAt: 0)
            + ["raised", "open", "ack", "resolved", "kept", "lost", "no-ctc", "held"].map {
                " " + $0.leftPadded(to: 6, with: " ")
            }.joined()
            + "  retention"
        var lines =
            ["Retention alerts", header, row(total), "By tier"] + byTier.map(row) + ["By reason"]
            + byReason.map(row)
        if let lastSweep {
            let finished = lastSweep.finishedAt.map { "finished \(Timestamp($0).rfc3339)" } ?? "still running"
            lines.append(
                "Last sweep: started \(Timestamp(lastSweep.startedAt).rfc3339), \(finished), "
                    + "\(lastSweep.customers) customers, \(lastSweep.alerts) alerts"
            )
        } else {
            lines.append("Last sweep: none yet")
        }
        return lines.joined(separator: "\n")
    }
}
