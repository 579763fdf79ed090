import CRMSchema
import Foundation

/// A selection of scored customers as SQL: filters, order, keyset start and limit.
///
/// No value is ever spliced into SQL text. A page runs as one prepared statement with bound values (`$1`, …): one
/// round trip, planned once per connection. An export runs `COPY (…) TO STDOUT`, which takes no bind parameters, so
/// there every value travels as a transaction-local setting (`crm.q1`, `crm.q2`, …) set with `set_config` in a
/// parameterised statement, and the query reads each once, in a sub-select (an init plan: evaluated once, and
/// usable in an index condition), cast to the column's type.
public struct CustomerQuery: Sendable {
    public var filter: CustomerFilter
    public var sort: CustomerSort
    /// At most this many customers; nil for all.
    public var limit: Int?
    /// Start after this customer of a previous page.
    public var after: CustomerCursor?
    /// Only this customer (the single customer object).
    var customerID: String?

    public init(
        filter: CustomerFilter = CustomerFilter(),
        sort: CustomerSort = .byCustomerID,
        limit: Int? = nil,
        after: CustomerCursor? = nil
    ) {
        self.filter = filter
        self.sort = sort
        self.limit = limit
        self.after = after
    }

    /// The SQL of one sort field, and the type its cursor value is read back as.
    static func sortKey(_ field: CustomerSort.Field) -> (sql: String, type: String) {
        switch field {
        case .customerID: ("s.customer_id", "text")
        case .ordersCount: ("s.orders_count", "integer")
        case .transactions: ("s.transactions", "integer")
        case .monetaryTotal: ("s.monetary_total", "numeric")
        case .firstOrderAt: ("s.first_order_at", "timestamptz")
        case .lastOrderAt: ("s.last_order_at", "timestamptz")
        case .recencyDays: (Schema.recencyDays("s"), "float8")
        case .rfmR: ("s.rfm_r", "smallint")
        case .rfmF: ("s.rfm_f", "smallint")
        case .rfmM: ("s.rfm_m", "smallint")
        case .historical: ("s.clv_historical", "numeric")
        case .simple: ("s.clv_simple", "numeric")
        case .predicted: ("s.clv_predicted", "numeric")
        case .pAlive: ("s.p_alive", "float8")
        case .expectedPurchases: ("s.expected_purchases_90d", "float8")
        }
    }

    /// Whether rows carry the sort key's text after the object's columns (for a cursor): every sort but the id's.
    var carriesSortKey: Bool { sort.field != .customerID }

    /// The statement's parts: the settings to make (in order `crm.q1`, …), the WHERE clause, and the whole query.
    struct Statement {
        var settings: [String] = []
        /// Values are bind parameters (`$1`, …) rather than settings.
        var bound = false
        /// Planner settings of an export of the whole selection (no limit).
        var wholeSelection = false
        var conditions: [String] = []
        var orderAndLimit = ""

        /// A value: a bind parameter, or a setting read once; cast to `type`.
        mutating func value(_ text: String, as type: String) -> String {
            settings.append(text)
            return bound
                ? "$\(settings.count)::\(type)" : "(SELECT current_setting('crm.q\(settings.count)')::\(type))"
        }

        var whereClause: String { conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") }

        /// `SELECT set_config('crm.q1', $1, true), …`, and JIT compilation off (a list is a simple scan, where
        /// compiling costs more than it saves): one round trip before the query.
        ///
        /// An export of the whole selection also sorts in memory and joins by hashing: read in primary-key order
        /// through merge joins, a million scores and their customers cost half again as much as parallel scans,
        /// hash joins and a sort of the result (measured on a million customers), and the sort spills to disk
        /// below some 200 MB of `work_mem`.
        var setConfig: String {
            var parts = ["SELECT set_config('jit', 'off', true)"]
            if wholeSelection {
                parts += ["set_config('enable_mergejoin', 'off', true)", "set_config('work_mem', '256MB', true)"]
            }
            return (parts + settings.indices.map { "set_config('crm.q\($0 + 1)', $\($0 + 1), true)" })
                .joined(separator: ", ")
        }
    }

    /// The scores with their customers' region and type. A page probes `customers` by key for each score it reads
    /// (a lateral subquery behind `OFFSET 0`, which the planner cannot turn into a join): joined, PostgreSQL read
    /// `customers` in key order from the page's first id to its last, a thousand rows and more for a page of a
    /// hundred gold customers in decline, scattered over its heap (170 ms against 1 ms on a million customers). A
    /// bulk read joins the two tables whole.
    static func from(bulk: Bool) -> String {
        bulk
            ? "FROM customer_scores s JOIN customers c ON c.customer_id = s.customer_id"
            : "FROM customer_scores s CROSS JOIN LATERAL (SELECT c.region, c.customer_type FROM customers c "
                + "WHERE c.customer_id = s.customer_id OFFSET 0) c"
    }

    /// The statement, its values as settings for COPY, or as bind parameters (`bound`).
    func statement(bound: Bool = false) -> Statement {
        var statement = Statement()
        statement.bound = bound
        statement.wholeSelection = limit == nil && customerID == nil
        func condition(_ sql: (inout Statement) -> String) { statement.conditions.append(sql(&statement)) }
        let filter = self.filter
        if let customerID { condition { "s.customer_id = \($0.value(customerID, as: "text"))" } }
        if let tier = filter.tier { condition { "s.tier = \($0.value(tier.rawValue, as: "text"))" } }
        if let stage = filter.stage { condition { "s.lifecycle_stage = \($0.value(stage.rawValue, as: "text"))" } }
        if let grid = filter.grid { condition { "s.grid = \($0.value(grid, as: "text"))" } }
        if let segment = filter.segment { condition { "s.rfm_segment = \($0.value(segment.rawValue, as: "text"))" } }
        if let region = filter.region { condition { "c.region = \($0.value(region, as: "text"))" } }
        if let type = filter.type { condition { "c.customer_type = \($0.value(type, as: "text"))" } }
        if let value = filter.minOrders { condition { "s.orders_count >= \($0.value(String(value), as: "integer"))" } }
        if let value = filter.maxOrders { condition { "s.orders_count <= \($0.value(String(value), as: "integer"))" } }
        if let value = filter.minCLV { condition { "s.clv_predicted >= \($0.value(value, as: "numeric"))" } }
        if let value = filter.maxCLV { condition { "s.clv_predicted <= \($0.value(value, as: "numeric"))" } }
        if let value = filter.minHistorical { condition { "s.clv_historical >= \($0.value(value, as: "numeric"))" } }
        if let value = filter.maxHistorical { condition { "s.clv_historical <= \($0.value(value, as: "numeric"))" } }
        if let value = filter.minPAlive { condition { "s.p_alive >= \($0.value(String(value), as: "float8"))" } }
        if let value = filter.maxPAlive { condition { "s.p_alive <= \($0.value(String(value), as: "float8"))" } }
        if let time = filter.lastOrderBefore {
            condition { "s.last_order_at < \($0.value(time.rfc3339, as: "timestamptz"))" }
        }
        if let time = filter.lastOrderAfter {
            condition { "s.last_order_at > \($0.value(time.rfc3339, as: "timestamptz"))" }
        }
        if let flag = filter.flag {
            condition {
                "EXISTS (SELECT 1 FROM customer_flags cf WHERE cf.customer_id = s.customer_id AND cf.flag = "
                    + "\($0.value(flag.rawValue, as: "text")))"
            }
        }
        let key = Self.sortKey(sort.field)
        if let after {
            if sort.field == .customerID {
                condition {
                    let id = $0.value(after.customerID, as: "text")
                    let comparison = sort.descending ? "<" : ">"
                    // In bulk the condition names both joined tables: PostgreSQL does not carry an inequality across
                    // a join, and a merge join would otherwise read `customers` from its first row for every page.
                    return "s.customer_id \(comparison) \(id)"
                        + (isBulk ? " AND c.customer_id \(comparison) \(id)" : "")
                }
            } else if let value = after.value {
                condition {
                    let last = $0.value(value, as: key.type)
                    let id = $0.value(after.customerID, as: "text")
                    return "(\(key.sql) \(sort.descending ? "<" : ">") \(last) OR (\(key.sql) = \(last) AND "
                        + "s.customer_id > \(id)) OR \(key.sql) IS NULL)"
                }
            } else {
                condition { "(\(key.sql) IS NULL AND s.customer_id > \($0.value(after.customerID, as: "text")))" }
            }
        }
        let direction = sort.descending ? "DESC" : "ASC"
        statement.orderAndLimit =
            sort.field == .customerID
            ? "ORDER BY s.customer_id \(direction)"
            : "ORDER BY \(key.sql) \(direction) NULLS LAST, s.customer_id ASC"
        if let limit { statement.orderAndLimit += " LIMIT \(statement.value(String(limit), as: "bigint"))" }
        return statement
    }

    /// Whether the query reads in bulk (an export, or pages of more than a thousand): the customers' flags and
    /// open items then come from joins of whole-table aggregates rather than from a probe per customer.
    var isBulk: Bool { customerID == nil && (limit ?? .max) > CustomerQuery.maximumPageSize }

    /// The query every export runs: the object's values (and the sort key's text when ``carriesSortKey``).
    func select(_ statement: Statement) -> String {
        let extra = carriesSortKey ? ", (\(Self.sortKey(sort.field).sql))::text" : ""
        return "SELECT \(CustomerColumns.selectList(bulk: isBulk))\(extra) \(Self.from(bulk: isBulk)) "
            + (isBulk ? CustomerColumns.bulkJoins + " " : "") + "\(statement.whereClause) \(statement.orderAndLimit)"
    }

    /// How many customers the filters (and the cursor, if any) select, whatever the limit.
    func count(_ statement: Statement) -> String {
        "SELECT count(*) \(Self.from(bulk: true)) \(statement.whereClause)"
    }
}
