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
        }

        var path: String
        var sql: String
        var kind: Kind
    }

    /// The leaves in the object's order.
    static let all: [Column] = [
        Column(path: "customer_id", sql: "s.customer_id", kind: .text),
        Column(path: "region", sql: "c.region", kind: .text),
        Column(path: "type", sql: "c.customer_type", kind: .text),
        Column(path: "orders_count", sql: "s.orders_count", kind: .number),
        Column(path: "transactions", sql: "s.transactions", kind: .number),
        Column(path: "monetary_total", sql: "s.monetary_total", kind: .money),
        Column(path: "monetary_average", sql: "s.monetary_average", kind: .money),
        Column(path: "first_order_at", sql: "date_part('epoch', s.first_order_at)", kind: .timestamp),
        Column(path: "last_order_at", sql: "date_part('epoch', s.last_order_at)", kind: .timestamp),
        Column(path: "recency_days", sql: "s.recency_days", kind: .number),
        Column(path: "rfm.r", sql: "s.rfm_r", kind: .number),
        Column(path: "rfm.f", sql: "s.rfm_f", kind: .number),
        Column(path: "rfm.m", sql: "s.rfm_m", kind: .number),
        Column(path: "rfm.code", sql: "s.rfm_r::text || s.rfm_f || s.rfm_m", kind: .text),
        Column(path: "rfm.segment", sql: "s.rfm_segment", kind: .text),
        Column(path: "rfm.recency_days", sql: "s.recency_days", kind: .number),
        Column(path: "rfm.frequency", sql: "s.orders_count", kind: .number),
        Column(path: "rfm.monetary", sql: "s.monetary_total", kind: .money),
        Column(path: "clv.historical", sql: "s.clv_historical", kind: .money),
        Column(path: "clv.simple", sql: "s.clv_simple", kind: .money),
        Column(path: "clv.predicted", sql: "s.clv_predicted", kind: .money),
        Column(path: "margin_rate", sql: "s.margin_rate", kind: .number),
        Column(path: "p_alive", sql: "s.p_alive", kind: .number),
        Column(path: "expected_purchases_90d", sql: "s.expected_purchases_90d", kind: .number),
        Column(path: "expected_interval_days", sql: "s.expected_interval_days", kind: .number),
        Column(path: "lifecycle_stage", sql: "s.lifecycle_stage", kind: .text),
        Column(path: "lifecycle_rule", sql: "s.lifecycle_rule", kind: .text),
        Column(path: "tier", sql: "s.tier", kind: .text),
        Column(path: "grid", sql: "s.grid", kind: .text),
        Column(path: "grid_axis", sql: "s.grid_axis", kind: .text),
        Column(path: "strategy", sql: "s.strategy", kind: .text),
        Column(
            path: "flags",
            sql:
                "(SELECT string_agg(f.flag, ';' ORDER BY f.flag) FROM customer_flags f WHERE f.customer_id = s.customer_id)",
            kind: .flags
        ),
        Column(path: "open_alerts", sql: OpenItems.alertsCount, kind: .number),
        Column(path: "open_complaints", sql: OpenItems.complaintsCount, kind: .number),
        Column(path: "model_id", sql: "s.model_id", kind: .number),
        Column(path: "scored_at", sql: "date_part('epoch', s.scored_at)", kind: .timestamp),
    ]

    /// The select list, in ``all``'s order.
    static let selectList = all.map(\.sql).joined(separator: ", ")

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

    /// For each column, the index of the first column of its object (itself for a top-level leaf): the column
    /// whose NULL makes the whole object null.
    static let objectLead: [Int] = {
        var leads: [Int] = []
        for (index, column) in all.enumerated() {
            let prefix = column.path.split(separator: ".").dropLast().joined(separator: ".")
            let lead = prefix.isEmpty ? index : (all.firstIndex { $0.path.hasPrefix(prefix + ".") } ?? index)
            leads.append(lead)
        }
        return leads
    }()

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
