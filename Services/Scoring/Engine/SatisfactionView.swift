import CRMContract
import CRMPostgres
import CRMSupport

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

    /// `$1` the customer, `$2` ``falseLoyaltyPAlive``: ratings, mean, last rating, its time (epoch seconds),
    /// p_alive, contribution and false loyalty.
    ///
    /// The percentile counts the scored base once per request (a sequential scan of `customer_scores`): an index on
    /// the predicted value would be rewritten with nearly every score.
    static let query = """
        SELECT r.n, round(r.mean, 2)::text, r.last, date_part('epoch', r.last_at), s.p_alive,
               CASE WHEN s.clv_predicted IS NOT NULL THEN round((
                   (SELECT count(*) FROM customer_scores x WHERE x.clv_predicted < s.clv_predicted)::numeric
                   / greatest((SELECT count(*) FROM customer_scores x WHERE x.clv_predicted IS NOT NULL) - 1, 1)
               ), 4)::text END,
               coalesce(r.last <= 2 AND s.p_alive >= $2, false)
        FROM customer_scores s
        CROSS JOIN LATERAL (
            SELECT count(*) AS n, avg(c.satisfaction) AS mean,
                   (array_agg(c.satisfaction ORDER BY c.satisfaction_at DESC, c.satisfaction))[1] AS last,
                   max(c.satisfaction_at) AS last_at
            FROM complaints c WHERE c.customer_id = s.customer_id AND c.satisfaction IS NOT NULL
        ) r
        WHERE s.customer_id = $1
        """

    /// The two members, without braces, as the rest of the object is written: compact JSON.
    static func members(_ row: PostgresRow) throws -> String {
        let ratings = try row.decode(0, as: Int.self)
        let mean = try row.decodeIfPresent(1, as: String.self)
        let last = try row.decodeIfPresent(2, as: Int.self)
        let lastAt = try row.decodeIfPresent(3, as: Double.self)
        let pAlive = try row.decodeIfPresent(4, as: Double.self)
        let contribution = try row.decodeIfPresent(5, as: String.self)
        let falseLoyalty = try row.decode(6, as: Bool.self)
        func number(_ value: String?) -> String { value.flatMap { Double($0) }.map { "\($0)" } ?? "null" }
        var bytes: [UInt8] = Array(#""satisfaction":{"ratings":"#.utf8)
        bytes.append(contentsOf: "\(ratings),\"mean\":\(number(mean)),\"last\":\(last.map(String.init) ?? "null")".utf8)
        bytes.append(contentsOf: #","last_at":"#.utf8)
        if let lastAt {
            bytes.append(UInt8(ascii: "\""))
            Timestamp.appendRFC3339(millisecondsSince1970: Int64((lastAt * 1000).rounded()), to: &bytes)
            bytes.append(UInt8(ascii: "\""))
        } else {
            bytes.append(contentsOf: "null".utf8)
        }
        let degree = mean.flatMap { Double($0) }.map { (($0 - 1) / 4 * 10_000).rounded() / 10_000 }
        bytes.append(contentsOf: #"},"three_degree":{"satisfaction":"#.utf8)
        bytes.append(contentsOf: (degree.map { "\($0)" } ?? "null").utf8)
        bytes.append(contentsOf: #","retention":"#.utf8)
        bytes.append(contentsOf: (pAlive.map { "\($0)" } ?? "null").utf8)
        bytes.append(contentsOf: #","contribution":"#.utf8)
        bytes.append(contentsOf: number(contribution).utf8)
        bytes.append(contentsOf: #","false_loyalty":"#.utf8)
        bytes.append(contentsOf: (falseLoyalty ? "true" : "false").utf8)
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
