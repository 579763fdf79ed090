import Foundation
import TestText
import Testing

@testable import Scoring

@Suite("Customer lists: filters, cursors, SQL, rows")
struct EngineCustomerListTests {
    static func query(
        _ parameters: [(String, String)],
        pageLimit: Int? = 1000
    ) throws(CustomerSelectionError)
        -> CustomerQuery
    {
        try CustomerQuery(parameters: parameters.map { (name: $0.0, value: $0.1) }, pageLimit: pageLimit)
    }

    static func refusal(_ parameters: [(String, String)], pageLimit: Int? = 1000) -> CustomerSelectionError? {
        do {
            _ = try query(parameters, pageLimit: pageLimit)
            return nil
        } catch {
            return error
        }
    }

    // MARK: - Filters

    @Test("every filter parses into its field")
    func everyFilter() throws {
        let parsed = try Self.query([
            ("tier", "gold"), ("stage", "decline"), ("grid", "high-low"), ("segment", "at_risk"),
            ("region", "East, \"north\""), ("type", "final"), ("min_orders", "5"), ("max_orders", "50"),
            ("min_clv", "100"), ("max_clv", "2500.50"), ("min_historical", "-10.5"), ("max_historical", "9000"),
            ("min_p_alive", "0.25"), ("max_p_alive", "1"), ("last_order_before", "1998-06-01T00:00:00+08:00"),
            ("last_order_after", "1997-01-01T00:00:00Z"), ("flag", "opt_out"), ("sort", "clv.predicted:desc"),
            ("limit", "250"),
        ])
        let filter = parsed.filter
        #expect(filter.tier == .gold && filter.stage == .decline && filter.grid == "high-low")
        #expect(filter.segment == .atRisk && filter.region == "East, \"north\"" && filter.type == "final")
        #expect(filter.minOrders == 5 && filter.maxOrders == 50)
        #expect(filter.minCLV == "100" && filter.maxCLV == "2500.50" && filter.minHistorical == "-10.5")
        #expect(filter.minPAlive == 0.25 && filter.maxPAlive == 1)
        #expect(filter.lastOrderBefore?.rfc3339 == "1998-05-31T16:00:00.000Z")
        #expect(filter.flag == .optOut)
        #expect(parsed.sort == CustomerSort(field: .predicted, descending: true))
        #expect(parsed.limit == 250)
    }

    @Test(
        "a value that cannot be used is refused naming its parameter",
        arguments: [
            ("tier", "platinum"), ("stage", "asleep"), ("grid", "high-high-high"), ("segment", "vip"),
            ("type", "reseller"), ("min_orders", "-1"), ("max_orders", "many"), ("min_clv", "1e3"),
            ("max_clv", "12,5"), ("min_p_alive", "1.5"), ("max_p_alive", "NaN"), ("last_order_before", "2026-01-01"),
            ("last_order_after", "yesterday"), ("flag", "vip"), ("sort", "name"), ("limit", "0"),
            ("limit", "1001"), ("after", "not-a-cursor!"), ("region", ""), ("colour", "red"),
        ]
    )
    func refusals(_ name: String, _ value: String) {
        #expect(Self.refusal([(name, value)])?.parameter == name)
    }

    @Test("a range whose minimum lies above its maximum names the minimum")
    func inverseRanges() {
        #expect(Self.refusal([("min_orders", "5"), ("max_orders", "2")])?.parameter == "min_orders")
        #expect(Self.refusal([("min_clv", "10.5"), ("max_clv", "10.49")])?.parameter == "min_clv")
        #expect(Self.refusal([("min_p_alive", "0.9"), ("max_p_alive", "0.1")])?.parameter == "min_p_alive")
        #expect(
            Self.refusal([("last_order_after", "1998-01-01T00:00:00Z"), ("last_order_before", "1997-01-01T00:00:00Z")])?
                .parameter == "last_order_after"
        )
        #expect(Self.refusal([("min_orders", "2"), ("max_orders", "2")]) == nil)
    }

    @Test("a repeated parameter is refused; a page has 100 by default and at most 1000; CSV has no cap")
    func pagesAndRepeats() throws {
        #expect(Self.refusal([("tier", "gold"), ("tier", "silver")])?.parameter == "tier")
        #expect(try Self.query([]).limit == 100)
        #expect(try Self.query([]).sort == .byCustomerID)
        #expect(try Self.query([], pageLimit: nil).limit == nil)
        #expect(try Self.query([("limit", "50000")], pageLimit: nil).limit == 50_000)
    }

    // MARK: - Cursors

    @Test("a cursor survives any id and value, and only for its own sort", arguments: ["C-42", "李雷, \"x\"", "a/b+c=="])
    func cursors(_ id: String) throws {
        let sort = CustomerSort(field: .lastOrderAt, descending: true)
        for value in [nil, "1997-01-01 00:00:00+00", "0.1"] as [String?] {
            let cursor = CustomerCursor(sort: sort.description, value: value, customerID: id)
            let text = cursor.encoded
            #expect(text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            #expect(try CustomerCursor(decoding: text, sort: sort) == cursor)
            #expect(throws: CustomerSelectionError.self) { try CustomerCursor(decoding: text, sort: .byCustomerID) }
        }
    }

    @Test("text that is not a cursor is refused as `after`")
    func forgedCursors() {
        let sort = CustomerSort.byCustomerID
        for text in ["", "%%%", Data("[\"c1\",\"customer_id:asc\",null]".utf8).base64EncodedString(), "eyJhIjoxfQ"] {
            #expect(throws: CustomerSelectionError(parameter: "after", "not a cursor this API returned as next")) {
                try CustomerCursor(decoding: text, sort: sort)
            }
        }
    }

    // MARK: - SQL

    @Test("values travel as settings, never in the SQL text")
    func parameterised() throws {
        let hostile = "x'); DROP TABLE customer_scores; --"
        var query = try Self.query([("region", hostile), ("min_clv", "12.5"), ("sort", "p_alive:desc")])
        query.after = CustomerCursor(sort: "p_alive:desc", value: "0.5", customerID: "'; --")
        let statement = query.statement()
        let sql = query.select(statement)
        #expect(!sql.contains(hostile) && !sql.contains("12.5") && !sql.contains("'; --"))
        #expect(statement.settings == [hostile, "12.5", "0.5", "'; --", "100"])
        #expect(sql.contains("(SELECT current_setting('crm.q5')::bigint)"))
        #expect(sql.contains("ORDER BY s.p_alive DESC NULLS LAST, s.customer_id ASC"))
        #expect(statement.setConfig.contains("set_config('crm.q5', $5, true)"))
        // A page probes each customer's flags and open items; an export joins their aggregates once.
        #expect(!query.isBulk && sql.contains("FROM customer_flags fl WHERE fl.customer_id = s.customer_id"))
        query.limit = nil
        let bulk = query.select(query.statement())
        #expect(query.isBulk && bulk.contains("LEFT JOIN (SELECT customer_id, string_agg(flag"))
        #expect(!bulk.contains("WHERE fl.customer_id = s.customer_id"))
    }

    // MARK: - Rows

    /// A COPY text line of the customer values, from values by leaf path (absent paths are NULL).
    static func line(_ values: [String: String]) -> [UInt8] {
        let fields = CustomerColumns.sources.indices.map { field in
            CustomerColumns.all.first { $0.field == field && $0.kind != .code && values[$0.path] != nil }
                .flatMap { values[$0.path] } ?? "\\N"
        }
        return Array(fields.joined(separator: "\t").utf8)
    }

    static func write(_ format: CustomerFormat, _ values: [String: String]) -> String {
        var fields = CopyFields()
        var writer = CustomerWriter(format: format, quantiles: nil)
        var bytes: [UInt8] = []
        line(values).withUnsafeBytes { pointer in
            fields.split(pointer)
            writer.append(fields, into: &bytes)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static let scored: [String: String] = [
        "customer_id": "C-1", "region": "东部, \\\"north\\\"\\nline", "orders_count": "3", "monetary_total": "129.9000",
        "first_order_at": "883612800.123", "rfm.r": "5", "rfm.f": "4", "rfm.m": "3", "rfm.code": "543",
        "rfm.segment": "champions", "clv.historical": "129.9000", "p_alive": "0.8125", "flags": "fraud;opt_out",
        "tier": "gold", "scored_at": "883612800",
    ]

    @Test("a JSON line nests by path, escapes text and writes times in RFC 3339")
    func jsonLine() throws {
        let text = Self.write(.jsonl, Self.scored)
        #expect(text.hasSuffix("}\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["region"] as? String == "东部, \"north\"\nline")
        #expect(object["orders_count"] as? Int == 3)
        #expect(object["monetary_total"] as? String == "129.9000")
        #expect(object["first_order_at"] as? String == "1998-01-01T00:00:00.123Z")
        #expect(object["last_order_at"] is NSNull)
        #expect(object["flags"] as? [String] == ["fraud", "opt_out"])
        let rfm = try #require(object["rfm"] as? [String: Any])
        #expect(rfm["segment"] as? String == "champions" && rfm["r"] as? Int == 5)
        #expect(rfm["code"] as? String == "543" && rfm["frequency"] as? Int == 3)
        #expect(rfm["monetary"] as? String == "129.9000")
        let clv = try #require(object["clv"] as? [String: Any])
        #expect(clv["predicted"] is NSNull)
        #expect(
            Set(object.keys).count == Set(CustomerColumns.all.map { String($0.path.split(separator: ".")[0]) }).count
        )
    }

    @Test("a record gives every leaf as the CSV writes it, repeated leaves from their shared field")
    func recordLeaves() throws {
        var fields = CopyFields()
        let record = Self.line(Self.scored).withUnsafeBytes { pointer in
            fields.split(pointer)
            return CustomerRecord(fields, quantiles: nil)
        }
        let csv = try #require(CSVReader.parse(Self.write(.csv, Self.scored)).first)
        for (path, cell) in zip(CustomerRecord.paths, csv) {
            #expect((record[path] ?? "") == cell, "\(path)")
        }
        #expect(record["rfm.code"] == "543" && record["rfm.frequency"] == "3")
        #expect(record["first_order_at"] == "1998-01-01T00:00:00.123Z")
        #expect(record["last_order_at"] == nil && record["unknown"] == nil)
    }

    @Test("without RFM scores the rfm object is null in JSON and its CSV cells empty; no flags is []")
    func missingObjects() throws {
        var values = Self.scored
        for key in values.keys where key.hasPrefix("rfm.") && key != "rfm.segment" { values[key] = nil }
        values["rfm.recency_days"] = "12"
        values["flags"] = nil
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(Self.write(.jsonl, values).utf8)) as? [String: Any]
        )
        #expect(object["rfm"] is NSNull)
        #expect(object["flags"] as? [String] == [])
        let row = Self.write(.csv, values)
        let header = CustomerColumns.all.map(\.path)
        let cells = try #require(CSVReader.parse(row).first)
        #expect(cells.count == header.count)
        for (path, cell) in zip(header, cells) where path.hasPrefix("rfm.") { #expect(cell.isEmpty, "\(path)") }
    }

    @Test("a CSV row quotes what needs it and keeps one column per leaf")
    func csvRow() throws {
        let row = Self.write(.csv, Self.scored)
        #expect(row.hasSuffix("\r\n"))
        #expect(row.contains(#""东部, ""north""\#nline""#))
        let cells = try #require(CSVReader.parse(row).first)
        let header = CustomerColumns.all.map(\.path)
        let byPath = Dictionary(uniqueKeysWithValues: zip(header, cells))
        #expect(byPath["region"] == "东部, \"north\"\nline")
        #expect(byPath["flags"] == "fraud;opt_out")
        #expect(byPath["first_order_at"] == "1998-01-01T00:00:00.123Z")
        #expect(byPath["clv.predicted"] == "")
        var header1: [UInt8] = []
        CustomerWriter(format: .csv, quantiles: nil).header(into: &header1)
        #expect(String(decoding: header1, as: UTF8.self) == header.joined(separator: ",") + "\r\n")
    }

    @Test("the table keeps its columns on one line whatever the id holds")
    func tableRow() {
        var values = Self.scored
        values["customer_id"] = "a-very-long-customer-id\\nwith-a-newline"
        let text = Self.write(.table, values)
        #expect(text.split(separator: "\n").count == 1)
        #expect(text.contains("…"))
        #expect(text.contains("gold"))
    }
}
