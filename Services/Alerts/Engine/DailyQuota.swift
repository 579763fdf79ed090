import CRMContract
import CRMPostgres
import CRMSupport
import Foundation

/// The daily cap of each desk queue: how many alerts each of `alerts.retention.p1..p3` receives per UTC day.
///
/// Counts live in `alert_daily_counts`, one row per day and priority, locked for the rest of the claiming
/// transaction, so replicas never hand a queue more than its cap between them. An alert over the cap is kept
/// (`delivery = 'held'`) and released on a later day, most valuable first (``HeldAlertRelease``).
enum DailyQuota {
    /// The UTC day of `date`, as `YYYY-MM-DD`.
    static func day(of date: Date) -> String {
        String(UTCDateTime.format(date).prefix(10))
    }

    /// Claims up to `wanted` slots per priority on `day` and returns how many were granted.
    ///
    /// Every alert counts, capped or not, so turning a cap on mid-day takes the day's alerts so far into account.
    static func claim(
        _ wanted: [AlertPriority: Int],
        caps: [AlertPriority: Int?],
        day: String,
        on connection: isolated PostgresConnection
    ) throws -> [AlertPriority: Int] {
        let room = try lock(Array(wanted.keys), caps: caps, day: day, on: connection)
        var granted: [AlertPriority: Int] = [:]
        for (priority, count) in wanted { granted[priority] = min(count, room[priority] ?? count) }
        try add(granted, day: day, on: connection)
        return granted
    }

    /// Locks the day's counts of `priorities` until the transaction ends and returns the room left in each
    /// (absent for a queue without a cap).
    static func lock(
        _ priorities: [AlertPriority],
        caps: [AlertPriority: Int?],
        day: String,
        on connection: isolated PostgresConnection
    ) throws -> [AlertPriority: Int] {
        let names = Set(priorities).map(\.rawValue).sorted()
        guard !names.isEmpty else { return [:] }
        try connection.execute(
            """
            INSERT INTO alert_daily_counts (day, priority)
            SELECT $1::date, p FROM unnest($2::text[]) AS p ON CONFLICT DO NOTHING
            """,
            [day, names]
        )
        var room: [AlertPriority: Int] = [:]
        for row in try connection.query(
            """
            SELECT priority, queued FROM alert_daily_counts
            WHERE day = $1::date AND priority = ANY($2::text[]) ORDER BY priority FOR UPDATE
            """,
            [day, names]
        ) {
            guard let priority = AlertPriority(rawValue: try row.decode(0)), let cap = caps[priority] ?? nil else {
                continue
            }
            room[priority] = max(cap - (try row.decode(1, as: Int.self)), 0)
        }
        return room
    }

    /// Adds alerts handed to the outbox to the day's counts (locked by ``lock(_:caps:day:on:)``).
    static func add(_ counts: [AlertPriority: Int], day: String, on connection: isolated PostgresConnection) throws {
        let counted = counts.filter { $0.value > 0 }.sorted { $0.key.rawValue < $1.key.rawValue }
        guard !counted.isEmpty else { return }
        try connection.execute(
            """
            UPDATE alert_daily_counts AS c SET queued = c.queued + x.n
            FROM unnest($2::text[], $3::int[]) AS x(p, n) WHERE c.day = $1::date AND c.priority = x.p
            """,
            [day, counted.map(\.key.rawValue), counted.map(\.value)]
        )
    }
}
