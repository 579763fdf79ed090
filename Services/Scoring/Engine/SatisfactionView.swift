/// The customer object's `satisfaction` and `three_degree`: the three-degree model of satisfaction × retention ×
/// contribution.
///
/// - `satisfaction`: `ratings` (how many of the customer's complaints were rated, 1 to 5, by the desks' status
///   updates; a complaint counts with its latest rating), `mean` (two decimals), `last` and `last_at` (the latest
///   rating and when it was given); `mean`, `last` and `last_at` are null without ratings.
/// - `three_degree`: `satisfaction` (the mean rating on a 0..1 scale, (mean − 1) ÷ 4, so that the three degrees share
///   one scale; null without ratings), `retention` (p_alive), `contribution` (the customer's predicted value as a
///   percentile of the scored base, 0..1: the share of the other customers with a predicted value below it; null
///   without one), and `false_loyalty`: true for a customer who still looks likely to buy (p_alive at least
///   ``falseLoyaltyPAlive``) while its latest rating is 1 or 2, the seeds' "false loyalty": loyal by behaviour,
///   not by attitude, and the first to leave when a competitor asks.
enum SatisfactionView {
    /// The p_alive at or above which a dissatisfied customer counts as falsely loyal.
    static let falseLoyaltyPAlive = 0.7

    /// `$1` the customer, `$2` ``falseLoyaltyPAlive``: one text value, the two members without braces.
    ///
    /// The percentile counts the scored base once per request (a sequential scan of `customer_scores`): an index on
    /// the predicted value would be rewritten with nearly every score.
    static let query = """
        SELECT '"satisfaction":' || json_build_object(
                   'ratings', r.n, 'mean', round(r.mean, 2), 'last', r.last,
                   'last_at', to_char(r.last_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text
               || ',"three_degree":' || json_build_object(
                   'satisfaction', round((r.mean - 1) / 4, 4), 'retention', s.p_alive,
                   'contribution', CASE WHEN s.clv_predicted IS NOT NULL THEN round((
                       (SELECT count(*) FROM customer_scores x WHERE x.clv_predicted < s.clv_predicted)::numeric
                       / greatest((SELECT count(*) FROM customer_scores x WHERE x.clv_predicted IS NOT NULL) - 1, 1)
                   ), 4) END,
                   'false_loyalty', coalesce(r.last <= 2 AND s.p_alive >= $2, false))::text
        FROM customer_scores s
        CROSS JOIN LATERAL (
            SELECT count(*) AS n, avg(c.satisfaction) AS mean,
                   (array_agg(c.satisfaction ORDER BY c.satisfaction_at DESC, c.complaint_id DESC))[1] AS last,
                   max(c.satisfaction_at) AS last_at
            FROM complaints c WHERE c.customer_id = s.customer_id AND c.satisfaction IS NOT NULL
        ) r
        WHERE s.customer_id = $1
        """
}
