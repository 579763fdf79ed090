import CRMContract
import CRMPostgres
import CRMSupport
import Foundation

/// The customer object's `satisfaction` and `three_degree`: the three-degree model of satisfaction × retention ×
/// contribution.
///
/// - `satisfaction`: `ratings` (how many of the customer's complaints were rated, 1 to 5, by the desks' status
///   updates; a complaint counts with its latest rating), `mean` (two decimals), `last` and `last_at` (the latest
///   rating and when it was given); `mean`, `last` and `last_at` are null without ratings.
/// - `three_degree`: `satisfaction` (the mean rating on a 0..1 scale, (mean − 1) ÷ 4, so that the three degrees share
///   one scale; null without ratings), `retention` (p_alive), `contribution` (the customer's predicted value as a
///   percentile of the base, 0..1: the share of the customers with purchases whose predicted value is below it, as
///   the newest full rescoring found them (``ValueQuantiles``, within 0.1%); null without a predicted value or before
///   a full rescoring has kept the quantiles), and `false_loyalty`: true for a customer who still looks likely to buy (p_alive at least
///   ``falseLoyaltyPAlive``) while its latest rating is 1 or 2, the seeds' "false loyalty": loyal by behaviour,
///   not by attitude, and the first to leave when a competitor asks.
enum SatisfactionView {
    /// The p_alive at or above which a dissatisfied customer counts as falsely loyal.
    static let falseLoyaltyPAlive = 0.7

    /// `$1` the customer, `$2` ``falseLoyaltyPAlive``: ratings, mean, last rating, its time (epoch seconds),
    /// p_alive, the predicted value, false loyalty, and the newest model's ``ValueQuantiles`` (JSON).
    ///
    /// The contribution percentile is read from the quantiles the newest full rescoring stored: counting the base at
    /// every request would scan `customer_scores` twice (an index on the predicted value would be rewritten with
    /// nearly every score).
    static let query = """
        SELECT r.n, round(r.mean, 2)::text, r.last, date_part('epoch', r.last_at), s.p_alive,
               s.clv_predicted::float8, coalesce(r.last <= 2 AND s.p_alive >= $2, false),
               (SELECT m.value_quantiles::text FROM scoring_models m ORDER BY m.model_id DESC LIMIT 1)
        FROM customer_scores s
        CROSS JOIN LATERAL (
            SELECT count(*) AS n, avg(c.satisfaction) AS mean,
                   (array_agg(c.satisfaction ORDER BY c.satisfaction_at DESC, c.satisfaction))[1] AS last,
                   max(c.satisfaction_at) AS last_at
            FROM complaints c WHERE c.customer_id = s.customer_id AND c.satisfaction IS NOT NULL
        ) r
        WHERE s.customer_id = $1
        """

    /// The customer's contribution: its predicted value's percentile in `quantiles` (JSON), to four decimals; nil
    /// without a predicted value or without quantiles (before the first full rescoring that keeps them).
    static func contribution(predicted: Double?, quantiles: String?) -> Double? {
        guard let predicted, let quantiles,
            let distribution = try? JSONDecoder().decode(ValueQuantiles.self, from: Data(quantiles.utf8))
        else { return nil }
        return (distribution.percentile(of: predicted) * 10_000).rounded() / 10_000
    }

    /// The two members, without braces, as the rest of the object is written: compact JSON.
    static func members(_ row: PostgresRow) throws -> String {
        let ratings = try row.decode(0, as: Int.self)
        let mean = try row.decodeIfPresent(1, as: String.self)
        let last = try row.decodeIfPresent(2, as: Int.self)
        let lastAt = try row.decodeIfPresent(3, as: Double.self)
        let pAlive = try row.decodeIfPresent(4, as: Double.self)
        let contribution = Self.contribution(
            predicted: try row.decodeIfPresent(5, as: Double.self),
            quantiles: try row.decodeIfPresent(7, as: String.self)
        )
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
        bytes.append(contentsOf: (contribution.map { "\($0)" } ?? "null").utf8)
        bytes.append(contentsOf: #","false_loyalty":"#.utf8)
        bytes.append(contentsOf: (falseLoyalty ? "true" : "false").utf8)
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
