extension Schema {
    /// A full rescoring of the present rewrites only the scores that moved: a score whose codes, counts and money are
    /// the same (`figures_digest`, a digest of them the scorer computes) and whose daily figures (p_alive, expected
    /// purchases, simple and predicted value) are within a small tolerance of today's keeps its row. Rewriting every
    /// score in place was most of a rescoring's time at a million customers and more; a day moves a tenth to a third
    /// of them. A row without a digest (scored before this migration) counts as moved once.
    static let keptScores = Migration(
        version: 41,
        name: "kept scores",
        sql: """
            ALTER TABLE customer_scores ADD COLUMN figures_digest bigint;
            """
    )

    /// The time a score stands as of, in SQL, for the `customer_scores` row named `row` (an alias or the table's
    /// name): the later of its `scored_at` (when its figures last moved, or when an incremental scoring wrote it)
    /// and the as-of time of the latest full rescoring, which judged every kept score still right. Every reader of a
    /// score's time reads this rather than `scored_at`.
    public static func scoreAsOf(_ row: String) -> String {
        "greatest(\(row).scored_at, \(latestRescoringAsOf))"
    }

    /// Whole days from a score's last purchase to the time it stands as of (``scoreAsOf(_:)``), never negative, in
    /// SQL: the stored `recency_days` where the row was written as of that time, derived from `last_order_at` as the
    /// scorer derives it where the row was kept. Null without purchases.
    public static func recencyDays(_ row: String) -> String {
        """
        (CASE WHEN \(row).scored_at >= \(latestRescoringAsOf) IS NOT FALSE THEN \(row).recency_days \
        ELSE greatest(0, floor(extract(epoch FROM \(latestRescoringAsOf) - \(row).last_order_at) / 86400))::float8 END)
        """
    }

    /// The as-of time of the latest full rescoring (its model is the newest), null before the first.
    private static let latestRescoringAsOf = "(SELECT as_of FROM scoring_models ORDER BY model_id DESC LIMIT 1)"
}
