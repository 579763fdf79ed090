import CRMPostgres
import Foundation

/// How satisfied customers are with the handling of their complaints, from the ratings kept per complaint
/// (`complaints.satisfaction`, the latest rating of each): per desk, per category and per tier (the customer's tier
/// when the complaint was routed; `unknown` for a customer not scored then). `crm desks` and `crm status` show them.
public struct SatisfactionFigures: Sendable, Hashable {
    /// What a group is: `desk`, `category` or `tier`.
    public var dimension: String
    /// The desk, category or tier.
    public var name: String
    /// Complaints rated.
    public var ratings: Int
    /// Their mean rating, 1 to 5.
    public var mean: Double
    /// Complaints rated 1 or 2.
    public var low: Int

    /// Share of the ratings that are 1 or 2.
    public var lowShare: Double { ratings == 0 ? 0 : Double(low) / Double(ratings) }

    /// Every group with at least one rating, by dimension then name: one pass over the rated complaints.
    public static func load(on connection: isolated PostgresConnection) throws -> [SatisfactionFigures] {
        try connection.query(
            """
            WITH rated AS (SELECT desk, category, coalesce(customer_tier, 'unknown') AS tier, satisfaction
                           FROM complaints WHERE satisfaction IS NOT NULL)
            SELECT 'desk', desk, count(*), avg(satisfaction)::float8, count(*) FILTER (WHERE satisfaction <= 2)
            FROM rated GROUP BY desk
            UNION ALL
            SELECT 'category', category, count(*), avg(satisfaction)::float8, count(*) FILTER (WHERE satisfaction <= 2)
            FROM rated GROUP BY category
            UNION ALL
            SELECT 'tier', tier, count(*), avg(satisfaction)::float8, count(*) FILTER (WHERE satisfaction <= 2)
            FROM rated GROUP BY tier
            ORDER BY 1, 2
            """
        ).map { row in
            SatisfactionFigures(
                dimension: try row.decode(0),
                name: try row.decode(1),
                ratings: try row.decode(2),
                mean: try row.decode(3),
                low: try row.decode(4)
            )
        }
    }
}

extension SatisfactionFigures {
    /// The figures as `--json` prints them: `{"desk": [...], "category": [...], "tier": [...]}`, each entry
    /// `{"name", "ratings", "mean", "low_share"}` (mean to two decimals, the share of ratings ≤ 2 to four).
    public static func jsonObject(_ figures: [SatisfactionFigures]) -> [String: [[String: Any]]] {
        var object: [String: [[String: Any]]] = ["desk": [], "category": [], "tier": []]
        for figure in figures {
            object[figure.dimension, default: []].append([
                "name": figure.name, "ratings": figure.ratings, "mean": (figure.mean * 100).rounded() / 100,
                "low_share": (figure.lowShare * 10_000).rounded() / 10_000,
            ])
        }
        return object
    }

    /// The figures as text lines: one table, a row per desk, category and tier.
    public static func lines(_ figures: [SatisfactionFigures]) -> [String] {
        guard !figures.isEmpty else { return ["no ratings yet"] }
        var lines = ["by        name                ratings   mean  rated 1-2"]
        for figure in figures {
            lines.append(
                figure.dimension.padding(toLength: 10, withPad: " ", startingAt: 0)
                    + figure.name.padding(toLength: 18, withPad: " ", startingAt: 0)
                    + String(format: "%9d  %5.2f  %8.1f%%", figure.ratings, figure.mean, 100 * figure.lowShare)
            )
        }
        return lines
    }
}
