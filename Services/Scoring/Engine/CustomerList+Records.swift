import CRMPostgres

/// A customer of a list as text by leaf: `record["clv.predicted"]`, the same leaves and values the JSON and CSV
/// of the list carry (timestamps in RFC 3339, money as PostgreSQL's numeric text). For pages that lay customers
/// out themselves, such as the web console's segment browser.
public struct CustomerRecord: Sendable {
    private let values: [String?]

    init(_ row: CopyFields, quantiles: ValueQuantiles?) {
        var values: [String?] = []
        values.reserveCapacity(CustomerColumns.all.count)
        // Each leaf from its field among the sources (a leaf may repeat another's, `rfm.frequency` is
        // `orders_count`), written as the CSV writes it.
        for (index, column) in CustomerColumns.all.enumerated() {
            guard !row.isNull(column.field), !row.isNull(CustomerColumns.objectLead[index]) else {
                values.append(nil)
                continue
            }
            switch column.kind {
            case .timestamp, .code:
                var bytes: [UInt8] = []
                if column.kind == .timestamp {
                    CustomerWriter.appendTimestamp(row, column.field, into: &bytes)
                } else {
                    CustomerWriter.appendCode(row, column.field, into: &bytes)
                }
                values.append(String(decoding: bytes, as: UTF8.self))
            case .boolean:
                values.append(String(decoding: CustomerWriter.boolean(row, column.field), as: UTF8.self))
            case .percentile:
                values.append(CustomerWriter.percentile(row, column.field, in: quantiles).map { "\($0)" })
            case .text, .number, .money, .flags:
                values.append(row.string(column.field))
            }
        }
        self.values = values
    }

    /// The leaf at `path` (`customer_id`, `rfm.segment`), nil when null or unknown.
    public subscript(_ path: String) -> String? {
        guard let index = CustomerColumns.index[path] else { return nil }
        return values[index]
    }

    /// The leaves' paths, in the object's order.
    public static var paths: [String] { CustomerColumns.all.map(\.path) }
}

extension CustomerColumns {
    /// Each leaf's position by its path.
    static let index: [String: Int] = Dictionary(
        uniqueKeysWithValues: all.enumerated().map { ($0.element.path, $0.offset) }
    )
}

extension CustomerList {
    /// One keyset page of customers as records, and the cursor of the next page (nil on the last): the page
    /// `GET /customers` serves, for callers that render it themselves. `query.limit` is the page size.
    public static func records(
        _ query: CustomerQuery,
        pool: PostgresPool
    ) async throws -> (customers: [CustomerRecord], next: CustomerCursor?) {
        let size = query.limit ?? CustomerQuery.defaultPageSize
        var probe = query
        probe.limit = size + 1  // one more than shown tells whether another page follows
        let extended = probe
        return try await pool.transaction { connection in
            let quantiles = try ModelStore.valueQuantiles(on: connection)
            var records: [CustomerRecord] = []
            var last: CustomerCursor?
            var more = false
            _ = try stream(extended, on: connection) { row in
                guard records.count < size else {
                    more = true
                    return
                }
                records.append(CustomerRecord(row, quantiles: quantiles))
                last = cursor(after: row, query: query)
            }
            return (records, more ? last : nil)
        }
    }
}
