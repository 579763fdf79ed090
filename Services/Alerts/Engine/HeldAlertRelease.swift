import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation

/// Publishes alerts held back by a desk queue's daily cap once the queue has room again (on a later UTC day, or
/// after the cap is raised): the most valuable at risk first, then the oldest.
///
/// Any replica may release: held rows are claimed with `FOR UPDATE SKIP LOCKED` and the day's counts stay locked
/// until commit, so two replicas never release the same alert or overfill a queue. A released alert keeps the
/// body and `raised_at` it was raised with. Alerts resolved while held are never published.
struct HeldAlertRelease: Sendable {
    /// The most released per queue in one transaction; the next tick takes the rest.
    static let chunk = 1000

    let configuration: AlertsConfiguration
    /// Where the released alerts' messages are written.
    let outbox: Outbox

    /// Held alerts per queue right now.
    static func heldCounts(pool: PostgresPool) async throws -> [AlertPriority: Int] {
        var counts: [AlertPriority: Int] = [:]
        for row in try await pool.query(
            "SELECT priority, count(*) FROM retention_alerts WHERE delivery = 'held' AND status = 'open' GROUP BY 1"
        ) {
            guard let priority = AlertPriority(rawValue: try row.decode(0)) else { continue }
            counts[priority] = try row.decode(1)
        }
        return counts
    }

    /// Releases what fits in each queue today, in the caller's transaction; returns how many per queue.
    func release(
        _ held: [AlertPriority: Int],
        now: Date,
        on connection: isolated PostgresConnection
    ) throws -> [AlertPriority: Int] {
        let waiting = held.filter { $0.value > 0 }
        guard !waiting.isEmpty else { return [:] }
        let day = DailyQuota.day(of: now)
        let caps = Dictionary(uniqueKeysWithValues: AlertPriority.allCases.map { ($0, configuration.cap($0)) })
        let room = try DailyQuota.lock(Array(waiting.keys), caps: caps, day: day, on: connection)
        var released: [AlertPriority: Int] = [:]
        var messages: [OutboundMessage] = []
        for priority in waiting.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            let limit = min(room[priority] ?? Self.chunk, Self.chunk)
            guard limit > 0 else { continue }
            let rows = try connection.query(
                """
                UPDATE retention_alerts SET delivery = 'queued', queued_at = now()
                WHERE alert_id IN (
                    SELECT alert_id FROM retention_alerts
                    WHERE delivery = 'held' AND status = 'open' AND priority = $1
                    ORDER BY value_at_risk DESC, raised_at, alert_id
                    LIMIT $2 FOR UPDATE SKIP LOCKED)
                RETURNING alert_id, body
                """,
                [priority.rawValue, limit]
            )
            released[priority] = rows.count
            for row in rows {
                messages.append(
                    OutboundMessage(
                        exchange: Topology.alertsExchange,
                        routingKey: priority.routingKey,
                        body: Data((try row.decode(1, as: String.self)).utf8),
                        messageID: (try row.decode(0, as: UUID.self)).uuidString.lowercased()
                    )
                )
            }
        }
        try DailyQuota.add(released, day: day, on: connection)
        try outbox.enqueue(messages, on: connection)
        return released
    }
}
