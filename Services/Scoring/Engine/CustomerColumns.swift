import CRMSchema
import CRMSupport

/// The customer object of the interface, leaf by leaf: what `crm customer ID --json`, `GET /customers`,
/// `crm customers` (CSV, JSON lines, table) and every export write, defined once.
///
/// Each leaf is named by its dotted path in the object (`rfm.segment`, `clv.predicted`): the JSON nests by the
/// path, a CSV column is headed by it. An object (`rfm`, `clv`) is null when its first leaf is: a customer without
/// purchases has no RFM scores, and its CSV row leaves every `rfm.*` column empty.
///
/// Timestamps leave PostgreSQL as epoch seconds and are written here in RFC 3339 (UTC, milliseconds), as every
/// message of the system writes them; money goes as PostgreSQL's numeric text, a JSON string; other numbers as
/// PostgreSQL writes them, JSON numbers.
enum CustomerColumns {
    /// One value PostgreSQL sends per row: its SQL, and in a bulk export its SQL there. A page probes the flags,
    /// open alerts and open complaints of its few customers by index; a bulk export joins each table's aggregate
    /// once instead, where a million probes of three tables cost more than the rest of the row.
    struct Source: Sendable {
        var sql: String
        var bulk: String?
    }

    /// One leaf of the customer object.
    struct Column: Sendable {
        enum Kind: Sendable {
            /// A JSON string (COPY's escapes undone).
            case text
            /// A JSON number as PostgreSQL wrote it.
            case number
            /// A numeric's text, a JSON string.
            case money
            /// Epoch seconds from PostgreSQL, written as RFC 3339.
            case timestamp
            /// Flag names joined by `;` (NULL for none): a JSON array of strings, the CSV cell as it is.
            case flags
            /// The RFM code, the digits of the three fields from `field` on (R, F, M): a JSON string.
            case code
            /// PostgreSQL's `t` or `f`: `true` or `false`, in JSON and CSV alike.
            case boolean
            /// The value's percentile in the newest model's ``ValueQuantiles`` (which the writer holds): a number.
            case percentile
        }

        var path: String
        /// The index of its value among ``sources`` (of the first of three for ``Kind/code``).
        var field: Int
        var kind: Kind
    }

    /// What PostgreSQL sends, in order; a leaf that repeats another (`rfm.frequency` is `orders_count`) is
    /// written from the same value.
    static let sources: [Source] = [
        Source(sql: "s.customer_id"), Source(sql: "c.region"), Source(sql: "c.customer_type"),
        Source(sql: "s.orders_count"), Source(sql: "s.transactions"), Source(sql: "s.monetary_total"),
        Source(sql: "s.monetary_average"), Source(sql: "date_part('epoch', s.first_order_at)"),
        Source(sql: "date_part('epoch', s.last_order_at)"), Source(sql: Schema.recencyDays("s")),
        Source(sql: "s.rfm_r"), Source(sql: "s.rfm_f"), Source(sql: "s.rfm_m"), Source(sql: "s.rfm_segment"),
        Source(sql: "s.clv_historical"),
        Source(sql: "s.clv_simple"), Source(sql: "s.clv_predicted"), Source(sql: "s.margin_rate"),
        Source(sql: "s.p_alive"), Source(sql: "s.expected_purchases_90d"), Source(sql: "s.expected_interval_days"),
        Source(sql: "s.lifecycle_stage"), Source(sql: "s.lifecycle_rule"), Source(sql: "s.tier"), Source(sql: "s.grid"),
        Source(sql: "s.grid_axis"), Source(sql: "s.strategy"),
        Source(
            sql: "(SELECT string_agg(fl.flag, ';' ORDER BY fl.flag) FROM customer_flags fl "
                + "WHERE fl.customer_id = s.customer_id)",
            bulk: "fl.flags"
        ),
        Source(sql: OpenItems.alertsCount, bulk: "coalesce(oa.n, 0)"),
        Source(sql: OpenItems.complaintsCount, bulk: "coalesce(oc.n, 0)"),
        Source(sql: "s.model_id"), Source(sql: "date_part('epoch', \(Schema.scoreAsOf("s")))"),
        Source(sql: Satisfaction.ratings, bulk: "coalesce(sat.n, 0)"),
        Source(sql: Satisfaction.mean, bulk: "sat.mean"),
        Source(sql: Satisfaction.last, bulk: "sat.last"),
        Source(sql: Satisfaction.lastAt, bulk: "date_part('epoch', sat.last_at)"),
        Source(sql: Satisfaction.degree, bulk: "round((sat.mean - 1) / 4, 4)"),
        Source(
            sql: Satisfaction.falseLoyalty(last: Satisfaction.last),
            bulk: Satisfaction.falseLoyalty(last: "sat.last")
        ),
    ]

    /// The customer's `satisfaction` and `three_degree`: the three-degree model of satisfaction × retention ×
    /// contribution.
    ///
    /// - `satisfaction`: `ratings` (how many of the customer's complaints were rated, 1 to 5, by the desks' status
    ///   updates; a complaint counts with its latest rating), `mean` (two decimals), `last` and `last_at` (the latest
    ///   rating and when it was given); `mean`, `last` and `last_at` are null without ratings.
    /// - `three_degree`: `satisfaction` (the mean rating on a 0..1 scale, (mean − 1) ÷ 4, so that the three degrees
    ///   share one scale; null without ratings), `retention` (p_alive), `contribution` (the customer's predicted
    ///   value as a percentile of the base, 0..1: the share of the customers with purchases whose predicted value is
    ///   below it, as the newest full rescoring found them: ``ValueQuantiles/percentile(of:)`` of `clv.predicted`,
    ///   computed as the row is written, within 0.1%; null without a predicted value or before a full rescoring has
    ///   kept them), and
    ///   `false_loyalty`: true for a customer who still looks likely to buy (p_alive at least
    ///   ``falseLoyaltyPAlive``) while its latest rating is 1 or 2, the seeds' "false loyalty": loyal by behaviour,
    ///   not by attitude, and the first to leave when a competitor asks.
    enum Satisfaction {
        /// The p_alive at or above which a dissatisfied customer counts as falsely loyal.
        static let falseLoyaltyPAlive = 0.7
        private static func rated(_ aggregate: String) -> String {
            "(SELECT \(aggregate) FROM complaints k WHERE k.customer_id = s.customer_id AND k.satisfaction IS NOT NULL)"
        }
        static let ratings = rated("count(*)")
        static let mean = rated("round(avg(k.satisfaction), 2)")
        static let last = rated("(array_agg(k.satisfaction ORDER BY k.satisfaction_at DESC, k.satisfaction))[1]")
        static let lastAt = rated("date_part('epoch', max(k.satisfaction_at))")
        static let degree = rated("round((round(avg(k.satisfaction), 2) - 1) / 4, 4)")
        static func falseLoyalty(last: String) -> String {
            "coalesce(\(last) <= 2 AND s.p_alive >= \(falseLoyaltyPAlive), false)"
        }
    }

    /// The joins that feed the bulk forms of ``sources``.
    static let bulkJoins = """
        LEFT JOIN (SELECT customer_id, string_agg(flag, ';' ORDER BY flag) AS flags FROM customer_flags GROUP BY 1) fl
            ON fl.customer_id = s.customer_id
        LEFT JOIN (SELECT customer_id, count(*) AS n FROM retention_alerts
                   WHERE status <> 'resolved' AND alert_group <> 'control' GROUP BY 1) oa
            ON oa.customer_id = s.customer_id
        LEFT JOIN (SELECT customer_id, count(*) AS n FROM complaints WHERE state <> 'resolved' GROUP BY 1) oc
            ON oc.customer_id = s.customer_id
        LEFT JOIN (SELECT customer_id, count(*) AS n, round(avg(satisfaction), 2) AS mean,
                          (array_agg(satisfaction ORDER BY satisfaction_at DESC, satisfaction))[1] AS last,
                          max(satisfaction_at) AS last_at
                   FROM complaints WHERE satisfaction IS NOT NULL GROUP BY 1) sat
            ON sat.customer_id = s.customer_id
        """

    /// The leaves in the object's order.
    static let all: [Column] = [
        Column(path: "customer_id", field: 0, kind: .text),
        Column(path: "region", field: 1, kind: .text),
        Column(path: "type", field: 2, kind: .text),
        Column(path: "orders_count", field: 3, kind: .number),
        Column(path: "transactions", field: 4, kind: .number),
        Column(path: "monetary_total", field: 5, kind: .money),
        Column(path: "monetary_average", field: 6, kind: .money),
        Column(path: "first_order_at", field: 7, kind: .timestamp),
        Column(path: "last_order_at", field: 8, kind: .timestamp),
        Column(path: "recency_days", field: 9, kind: .number),
        Column(path: "rfm.r", field: 10, kind: .number),
        Column(path: "rfm.f", field: 11, kind: .number),
        Column(path: "rfm.m", field: 12, kind: .number),
        Column(path: "rfm.code", field: 10, kind: .code),
        Column(path: "rfm.segment", field: 13, kind: .text),
        Column(path: "rfm.recency_days", field: 9, kind: .number),
        Column(path: "rfm.frequency", field: 3, kind: .number),
        Column(path: "rfm.monetary", field: 5, kind: .money),
        Column(path: "clv.historical", field: 14, kind: .money),
        Column(path: "clv.simple", field: 15, kind: .money),
        Column(path: "clv.predicted", field: 16, kind: .money),
        Column(path: "margin_rate", field: 17, kind: .number),
        Column(path: "p_alive", field: 18, kind: .number),
        Column(path: "expected_purchases_90d", field: 19, kind: .number),
        Column(path: "expected_interval_days", field: 20, kind: .number),
        Column(path: "lifecycle_stage", field: 21, kind: .text),
        Column(path: "lifecycle_rule", field: 22, kind: .text),
        Column(path: "tier", field: 23, kind: .text),
        Column(path: "grid", field: 24, kind: .text),
        Column(path: "grid_axis", field: 25, kind: .text),
        Column(path: "strategy", field: 26, kind: .text),
        Column(path: "flags", field: 27, kind: .flags),
        Column(path: "open_alerts", field: 28, kind: .number),
        Column(path: "open_complaints", field: 29, kind: .number),
        Column(path: "model_id", field: 30, kind: .number),
        Column(path: "scored_at", field: 31, kind: .timestamp),
        Column(path: "satisfaction.ratings", field: 32, kind: .number),
        Column(path: "satisfaction.mean", field: 33, kind: .number),
        Column(path: "satisfaction.last", field: 34, kind: .number),
        Column(path: "satisfaction.last_at", field: 35, kind: .timestamp),
        // `false_loyalty` leads: never null, it keeps the object present when the others are.
        Column(path: "three_degree.false_loyalty", field: 37, kind: .boolean),
        Column(path: "three_degree.satisfaction", field: 36, kind: .number),
        Column(path: "three_degree.retention", field: 18, kind: .number),
        Column(path: "three_degree.contribution", field: 16, kind: .percentile),
    ]

    /// The field of `customer_id`, which cursors read.
    static let customerIDField = 0

    /// The select list, in ``sources``' order: the page form, or the bulk form (with ``bulkJoins`` in FROM).
    static func selectList(bulk: Bool) -> String {
        sources.map { bulk ? $0.bulk ?? $0.sql : $0.sql }.joined(separator: ", ")
    }

    /// The CSV header line (with its CRLF).
    static let csvHeader: [UInt8] = {
        var bytes: [UInt8] = []
        for (index, column) in all.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.appendCSVField(column.path)
        }
        bytes.append(contentsOf: [13, 10])
        return bytes
    }()

    /// For each column, the field of the first leaf of its object (its own for a top-level leaf): the value whose
    /// NULL makes the whole object null.
    static let objectLead: [Int] = all.map { column in
        let prefix = column.path.split(separator: ".").dropLast().joined(separator: ".")
        guard !prefix.isEmpty else { return column.field }
        return all.first { $0.path.hasPrefix(prefix + ".") }?.field ?? column.field
    }

    /// The JSON object's shape: its top-level members in order, each a leaf (a column) or an object of leaves.
    enum Member: Sendable {
        case leaf(key: [UInt8], column: Int)
        case object(key: [UInt8], leaves: [(key: [UInt8], column: Int)])
    }

    static let members: [Member] = {
        var members: [Member] = []
        for (index, column) in all.enumerated() {
            let parts = column.path.split(separator: ".", maxSplits: 1).map(String.init)
            func quotedKey(_ key: String) -> [UInt8] {
                var bytes: [UInt8] = []
                bytes.appendJSONString(key)
                bytes.append(UInt8(ascii: ":"))
                return bytes
            }
            guard parts.count == 2 else {
                members.append(.leaf(key: quotedKey(parts[0]), column: index))
                continue
            }
            let objectKey = quotedKey(parts[0])
            if case .object(let key, var leaves) = members.last, key == objectKey {
                leaves.append((quotedKey(parts[1]), index))
                members[members.count - 1] = .object(key: key, leaves: leaves)
            } else {
                members.append(.object(key: objectKey, leaves: [(quotedKey(parts[1]), index)]))
            }
        }
        return members
    }()
}
