import ArgumentParser
import CRMPostgres
import CRMSupport
import Foundation

/// `crm prune`: deletes rows past their retention, in slices of 10,000 so no statement holds locks for long.
///
/// | setting | default | what goes |
/// | --- | --- | --- |
/// | `CRM_RETENTION_SCORE_HISTORY` | `400d` | `customer_score_history` rows changed before then (each customer's newest stays) |
/// | `CRM_RETENTION_ALERTS` | `730d` | resolved retention alerts resolved before then, with their reasons and feedback; `alert_daily_counts` and `alert_sweeps` as old |
/// | `CRM_RETENTION_OUTBOX` | `30d` | outbox rows written before then and still unpublished: events the broker refused for that long |
struct Prune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete score history, resolved alerts and stuck outbox rows past their retention.",
        discussion: """
            Retentions come from CRM_RETENTION_SCORE_HISTORY (default 400d), CRM_RETENTION_ALERTS (730d) and \
            CRM_RETENTION_OUTBOX (30d). Safe while the services run; run it daily (the compose backup profile \
            does). Retention rates in crm status and the metrics then cover the alerts kept.
            """
    )

    @Flag(help: "Count what would go, delete nothing.")
    var dryRun = false

    @Flag(help: "Print one JSON object.")
    var json = false

    struct Retention {
        var scoreHistory: Duration
        var alerts: Duration
        var outbox: Duration

        static func from(_ settings: Settings) throws(SettingsError) -> Retention {
            Retention(
                scoreHistory: try settings.duration("CRM_RETENTION_SCORE_HISTORY", default: .seconds(400 * 86_400)),
                alerts: try settings.duration("CRM_RETENTION_ALERTS", default: .seconds(730 * 86_400)),
                outbox: try settings.duration("CRM_RETENTION_OUTBOX", default: .seconds(30 * 86_400))
            )
        }
    }

    /// Each table's rows to delete: a query of at most `$2` ids older than `$1` seconds, and the delete of those ids.
    static let targets: [(key: String, select: String, delete: String)] = [
        (
            "customer_score_history",
            """
            SELECT h.id FROM customer_score_history h
            WHERE h.changed_at < now() - $1 * interval '1 second'
              AND EXISTS (SELECT 1 FROM customer_score_history n WHERE n.customer_id = h.customer_id AND n.id > h.id)
            LIMIT $2
            """,
            "DELETE FROM customer_score_history WHERE id = ANY($1::bigint[])"
        ),
        (
            "retention_alerts",
            """
            SELECT alert_id::text FROM retention_alerts
            WHERE status = 'resolved' AND resolved_at < now() - $1 * interval '1 second' LIMIT $2
            """,
            "DELETE FROM retention_alerts WHERE alert_id = ANY($1::uuid[])"
        ),
        (
            "alert_daily_counts",
            "SELECT day::text FROM alert_daily_counts WHERE day < (now() - $1 * interval '1 second')::date LIMIT $2",
            "DELETE FROM alert_daily_counts WHERE day = ANY($1::date[])"
        ),
        (
            "alert_sweeps",
            """
            SELECT id::text FROM alert_sweeps
            WHERE finished_at < now() - $1 * interval '1 second' LIMIT $2
            """,
            "DELETE FROM alert_sweeps WHERE id = ANY($1::bigint[])"
        ),
        (
            "crm_outbox",
            "SELECT id::text FROM crm_outbox WHERE created_at < now() - $1 * interval '1 second' LIMIT $2",
            "DELETE FROM crm_outbox WHERE id = ANY($1::bigint[])"
        ),
    ]

    func run() async throws {
        let environment = CommandEnvironment()
        let retention: Retention
        do {
            retention = try Retention.from(environment.settings)
        } catch {
            throw CommandFailure.configuration("\(error)")
        }
        let pool = try environment.pool()
        let counts: [String: Int]
        do {
            counts = try await Self.prune(retention, dryRun: dryRun, pool: pool)
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
        if json {
            print(try JSONOutput.string(["dry_run": dryRun, "deleted": counts]))
            return
        }
        for (key, _, _) in Self.targets {
            print(
                "\(key.padding(toLength: 24, withPad: " ", startingAt: 0)) \(counts[key] ?? 0)\(dryRun ? " would go" : " deleted")"
            )
        }
    }

    static func prune(_ retention: Retention, dryRun: Bool, pool: PostgresPool) async throws -> [String: Int] {
        let ages: [String: Duration] = [
            "customer_score_history": retention.scoreHistory, "retention_alerts": retention.alerts,
            "alert_daily_counts": retention.alerts, "alert_sweeps": retention.alerts, "crm_outbox": retention.outbox,
        ]
        var counts: [String: Int] = [:]
        for (key, select, delete) in targets {
            let seconds = ages[key]?.seconds ?? 0
            var total = 0
            while true {
                let slice = dryRun ? 1_000_000_000 : 10_000
                let ids = try await pool.query(select, [seconds, slice]).map { $0[0] ?? "" }
                if dryRun || ids.isEmpty {
                    total += ids.count
                    break
                }
                total += try await pool.execute(delete, [ids])
                if ids.count < slice { break }
            }
            counts[key] = total
        }
        return counts
    }
}
