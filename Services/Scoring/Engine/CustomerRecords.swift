import CRMContract
import CRMPostgres
import CRMSupport
import Foundation

/// The fields of one line of `COPY ... TO STDOUT` (text format), located without copying: valid only inside the
/// COPY callback that handed the line over. One value serves every line of an export, so its storage is reused.
struct CopyFields {
    private(set) var line = UnsafeRawBufferPointer(start: nil, count: 0)
    private var starts: [Int] = []
    private var ends: [Int] = []

    /// Locates the fields of `line`.
    mutating func split(_ line: UnsafeRawBufferPointer) {
        self.line = line
        starts.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        var start = 0
        for index in 0..<line.count where line[index] == 9 {
            starts.append(start)
            ends.append(index)
            start = index + 1
        }
        starts.append(start)
        ends.append(line.count)
    }

    var count: Int { starts.count }

    /// The raw bytes of field `index` (COPY escapes left in).
    func raw(_ index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: line[starts[index]..<ends[index]])
    }

    /// Whether field `index` is SQL NULL (`\N`).
    func isNull(_ index: Int) -> Bool {
        ends[index] - starts[index] == 2 && line[starts[index]] == 92 && line[starts[index] + 1] == 78
    }

    /// Field `index` with COPY's backslash escapes undone, through `scratch` when it has any.
    func withText<R>(_ index: Int, scratch: inout [UInt8], _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let field = raw(index)
        guard field.contains(92) else { return body(field) }
        scratch.removeAll(keepingCapacity: true)
        CopyText.unescape(field, into: &scratch)
        return scratch.withUnsafeBytes(body)
    }

    /// Field `index` as text (NULL as nil).
    func string(_ index: Int) -> String? {
        guard !isNull(index) else { return nil }
        var scratch: [UInt8] = []
        return withText(index, scratch: &scratch) { String(decoding: $0, as: UTF8.self) }
    }

    /// Field `index` as a number (nil for NULL or anything else).
    func double(_ index: Int) -> Double? {
        guard !isNull(index) else { return nil }
        let field = raw(index)
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: field.count + 1) { buffer -> Double? in
            for position in 0..<field.count { buffer[position] = CChar(bitPattern: field[position]) }
            buffer[field.count] = 0
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(buffer.baseAddress!, &end)
            return end == buffer.baseAddress! + field.count && field.count > 0 ? value : nil
        }
    }
}

/// How a list of customers is written: the three formats of `crm customers`, and the JSON objects of the HTTP API.
public enum CustomerFormat: String, Sendable, CaseIterable {
    /// A header line, then one row per customer, a column per leaf named by its dotted path (RFC 4180, CRLF).
    case csv
    /// One customer object per line.
    case jsonl
    /// Aligned columns for people: id, tier, stage, segment, orders, values, p_alive, last order.
    case table
}

/// Writes customers' COPY rows in a format into a byte buffer: header, rows, nothing at the end.
struct CustomerWriter {
    let format: CustomerFormat
    /// The newest model's predicted-value quantiles, which `three_degree.contribution` is read from (nil: null).
    let quantiles: ValueQuantiles?
    private var scratch: [UInt8] = []

    init(format: CustomerFormat, quantiles: ValueQuantiles?) {
        self.format = format
        self.quantiles = quantiles
    }

    /// What goes before the first row.
    func header(into bytes: inout [UInt8]) {
        switch format {
        case .csv: bytes.append(contentsOf: CustomerColumns.csvHeader)
        case .jsonl: break
        case .table: TableLayout.header(into: &bytes)
        }
    }

    /// Appends one customer.
    mutating func append(_ row: CopyFields, into bytes: inout [UInt8]) {
        switch format {
        case .csv: appendCSV(row, into: &bytes)
        case .jsonl:
            appendObject(row, into: &bytes)
            bytes.append(10)
        case .table: TableLayout.append(row, into: &bytes)
        }
    }

    /// Appends the customer object of `row`, without a line end.
    mutating func appendObject(_ row: CopyFields, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "{"))
        for (position, member) in CustomerColumns.members.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            switch member {
            case .leaf(let key, let column):
                bytes.append(contentsOf: key)
                appendJSONValue(row, column, into: &bytes)
            case .object(let key, let leaves):
                bytes.append(contentsOf: key)
                guard let first = leaves.first, !row.isNull(CustomerColumns.all[first.column].field) else {
                    bytes.append(contentsOf: "null".utf8)
                    continue
                }
                bytes.append(UInt8(ascii: "{"))
                for (index, leaf) in leaves.enumerated() {
                    if index > 0 { bytes.append(UInt8(ascii: ",")) }
                    bytes.append(contentsOf: leaf.key)
                    appendJSONValue(row, leaf.column, into: &bytes)
                }
                bytes.append(UInt8(ascii: "}"))
            }
        }
        bytes.append(UInt8(ascii: "}"))
    }

    private mutating func appendJSONValue(_ row: CopyFields, _ column: Int, into bytes: inout [UInt8]) {
        let definition = CustomerColumns.all[column]
        let field = definition.field
        guard !row.isNull(field) else {
            bytes.append(contentsOf: definition.kind == .flags ? Array("[]".utf8) : Array("null".utf8))
            return
        }
        switch definition.kind {
        case .number: bytes.append(contentsOf: row.raw(field))
        case .money: bytes.appendJSONString(row.raw(field))
        case .text: row.withText(field, scratch: &scratch) { bytes.appendJSONString($0) }
        case .timestamp:
            bytes.append(UInt8(ascii: "\""))
            Self.appendTimestamp(row, field, into: &bytes)
            bytes.append(UInt8(ascii: "\""))
        case .code:
            bytes.append(UInt8(ascii: "\""))
            Self.appendCode(row, field, into: &bytes)
            bytes.append(UInt8(ascii: "\""))
        case .boolean: bytes.append(contentsOf: Self.boolean(row, field))
        case .percentile:
            bytes.append(contentsOf: (Self.percentile(row, field, in: quantiles).map { "\($0)" } ?? "null").utf8)
        case .flags:
            bytes.append(UInt8(ascii: "["))
            for (index, name) in row.raw(field).split(separator: UInt8(ascii: ";")).enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                bytes.appendJSONString(name)
            }
            bytes.append(UInt8(ascii: "]"))
        }
    }

    private mutating func appendCSV(_ row: CopyFields, into bytes: inout [UInt8]) {
        let leads = CustomerColumns.objectLead
        for (column, definition) in CustomerColumns.all.enumerated() {
            if column > 0 { bytes.append(UInt8(ascii: ",")) }
            let field = definition.field
            guard !row.isNull(field), !row.isNull(leads[column]) else { continue }
            switch definition.kind {
            case .number, .money, .flags: bytes.append(contentsOf: row.raw(field))
            case .text: row.withText(field, scratch: &scratch) { bytes.appendCSVField($0) }
            case .timestamp: Self.appendTimestamp(row, field, into: &bytes)
            case .code: Self.appendCode(row, field, into: &bytes)
            case .boolean: bytes.append(contentsOf: Self.boolean(row, field))
            case .percentile:
                if let percentile = Self.percentile(row, field, in: quantiles) {
                    bytes.append(contentsOf: "\(percentile)".utf8)
                }
            }
        }
        bytes.append(contentsOf: [13, 10])
    }

    /// The percentile of field `field`'s value in `quantiles`; nil without either.
    static func percentile(_ row: CopyFields, _ field: Int, in quantiles: ValueQuantiles?) -> Double? {
        row.double(field).flatMap { quantiles?.percentile(of: $0) }
    }

    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)

    /// `true` for PostgreSQL's `t`, `false` for anything else.
    static func boolean(_ row: CopyFields, _ field: Int) -> [UInt8] {
        row.raw(field).first == UInt8(ascii: "t") ? trueBytes : falseBytes
    }

    /// The three digits of the R, F and M fields from `field` on.
    static func appendCode(_ row: CopyFields, _ field: Int, into bytes: inout [UInt8]) {
        for offset in 0..<3 { bytes.append(contentsOf: row.raw(field + offset)) }
    }

    /// RFC 3339 of an epoch-seconds field, to the nearest millisecond.
    static func appendTimestamp(_ row: CopyFields, _ column: Int, into bytes: inout [UInt8]) {
        guard let seconds = row.double(column), seconds.isFinite else { return }
        Timestamp.appendRFC3339(millisecondsSince1970: Int64((seconds * 1000).rounded()), to: &bytes)
    }
}

/// The `table` format: fixed columns, padded, long values cut with `…`.
enum TableLayout {
    /// (header, column path, width, right-aligned, how the value is shown).
    private static let columns: [(title: String, path: String, width: Int, right: Bool, show: Show)] = [
        ("customer", "customer_id", 18, false, .text),
        ("tier", "tier", 6, false, .text),
        ("stage", "lifecycle_stage", 11, false, .text),
        ("segment", "rfm.segment", 18, false, .text),
        ("orders", "orders_count", 6, true, .text),
        ("historical", "clv.historical", 12, true, .money),
        ("predicted", "clv.predicted", 12, true, .money),
        ("p_alive", "p_alive", 7, true, .probability),
        ("last order", "last_order_at", 10, false, .date),
        ("flags", "flags", 12, false, .text),
    ]

    private enum Show { case text, money, probability, date }

    private static let indexes = columns.map { column in
        CustomerColumns.all.first { $0.path == column.path }?.field ?? 0
    }

    static func header(into bytes: inout [UInt8]) {
        line(columns.map(\.title), into: &bytes)
        line(columns.map { String(repeating: "-", count: $0.width) }, into: &bytes)
    }

    static func append(_ row: CopyFields, into bytes: inout [UInt8]) {
        let values = zip(columns, indexes).map { column, index -> String in
            guard let text = row.string(index) else { return "–" }
            switch column.show {
            case .text: return text
            case .money: return Double(text).map { String(format: "%.2f", $0) } ?? text
            case .probability: return Double(text).map { String(format: "%.3f", $0) } ?? text
            case .date:
                var bytes: [UInt8] = []
                CustomerWriter.appendTimestamp(row, index, into: &bytes)
                return String(decoding: bytes.prefix(10), as: UTF8.self)
            }
        }
        line(values, into: &bytes)
    }

    private static func line(_ values: [String], into bytes: inout [UInt8]) {
        for (position, (value, column)) in zip(values, columns).enumerated() {
            if position > 0 { bytes.append(contentsOf: "  ".utf8) }
            // Control characters (a newline in an id) would break the table's lines.
            var shown = String(String.UnicodeScalarView(value.unicodeScalars.map { $0.value < 32 ? " " : $0 }))
            if shown.count > column.width { shown = String(shown.prefix(column.width - 1)) + "…" }
            let padding = String(repeating: " ", count: column.width - shown.count)
            bytes.append(contentsOf: (column.right ? padding + shown : shown + padding).utf8)
        }
        while bytes.last == UInt8(ascii: " ") { bytes.removeLast() }
        bytes.append(10)
    }
}
