import CRMPostgres
import CRMSupport
import Foundation

/// Lists and exports of scored customers, streamed from PostgreSQL: `COPY (SELECT …) TO STDOUT` hands each row
/// over as the server produces it, and it is written out at once, so no list is ever held in memory whatever the
/// size of the base.
public enum CustomerList {
    /// Streams the rows of `query` to `body`, in order, on the caller's connection and inside its transaction;
    /// returns how many.
    static func stream(
        _ query: CustomerQuery,
        on connection: isolated PostgresConnection,
        _ body: (CopyFields) throws -> Void
    ) throws -> Int {
        let statement = query.statement()
        try connection.execute(statement.setConfig, statement.settings)
        var fields = CopyFields()
        return try connection.copyOut("COPY (\(query.select(statement))) TO STDOUT") { line in
            fields.split(line)
            try body(fields)
        }
    }

    /// Runs `query` as one prepared statement with bound values (a page: at most a thousand rows) and hands each
    /// row to `body` as COPY fields, so that pages and exports write customers with the same code; returns how many.
    static func rows(
        _ query: CustomerQuery,
        on connection: isolated PostgresConnection,
        _ body: (CopyFields) throws -> Void
    ) throws -> Int {
        let statement = query.statement(bound: true)
        let rows = try connection.query(query.select(statement), statement.settings, prepared: true)
        var fields = CopyFields()
        var line: [UInt8] = []
        for row in rows {
            line.removeAll(keepingCapacity: true)
            for index in 0..<row.columns.count {
                if index > 0 { line.append(9) }
                guard let value = row[index] else {
                    line.append(contentsOf: [92, 78])
                    continue
                }
                for byte in value.utf8 {
                    switch byte {
                    case 92: line.append(contentsOf: [92, 92])
                    case 9: line.append(contentsOf: [92, 116])
                    case 10: line.append(contentsOf: [92, 110])
                    case 13: line.append(contentsOf: [92, 114])
                    default: line.append(byte)
                    }
                }
            }
            try line.withUnsafeBytes { bytes in
                fields.split(bytes)
                try body(fields)
            }
        }
        return rows.count
    }

    /// How many customers `query`'s filters select, on the caller's connection, inside its transaction.
    static func count(_ query: CustomerQuery, on connection: isolated PostgresConnection) throws -> Int {
        let statement = query.statement()
        try connection.execute(statement.setConfig, statement.settings)
        return try connection.query(query.count(statement)).first?.decode(0, as: Int.self) ?? 0
    }

    /// Writes the customers `query` selects in `format` to `sink`, about a megabyte at a time, on one connection
    /// and in one snapshot; returns how many were written.
    ///
    /// `sink` and `progress` run on the connection's thread, as the rows arrive: a file or a pipe is written
    /// there, and a slow reader slows the server's sending rather than filling memory. `total`, when given,
    /// hears the number of customers selected before the first row (a second, cheaper query) — for a progress bar.
    public static func export(
        _ query: CustomerQuery,
        format: CustomerFormat,
        connection: PostgresConnection,
        total: (@Sendable (Int) -> Void)? = nil,
        progress: @escaping @Sendable (Int) -> Void = { _ in },
        sink: @escaping @Sendable ([UInt8]) throws -> Void
    ) async throws -> Int {
        try await connection.transaction(isolation: .repeatableRead) { connection in
            if let total { total(min(try count(query, on: connection), query.limit ?? .max)) }
            var writer = CustomerWriter(format: format, quantiles: try ModelStore.valueQuantiles(on: connection))
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 20 + 4096)
            writer.header(into: &buffer)
            var written = 0
            _ = try stream(query, on: connection) { row in
                writer.append(row, into: &buffer)
                written += 1
                if buffer.count >= 1 << 20 {
                    try sink(buffer)
                    buffer.removeAll(keepingCapacity: true)
                    progress(written)
                }
            }
            try sink(buffer)
            progress(written)
            return written
        }
    }

    /// One keyset page of customer objects for `GET /customers`: `{"customers": [...], "next": CURSOR|null}`,
    /// `next` null on the last page. `query.limit` is the page size.
    public static func page(_ query: CustomerQuery, pool: PostgresPool) async throws -> String {
        let size = query.limit ?? 100
        var extended = query
        extended.limit = size + 1  // one more than shown tells whether another page follows
        let probe = extended
        let bytes = try await pool.withConnection { connection in
            try await connection.withoutTransaction { connection in
                try pageBytes(probe, size: size, on: connection)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The page's JSON: the first `size` rows of `probe` (which asks for one more) and the cursor after them.
    private static func pageBytes(
        _ probe: CustomerQuery,
        size: Int,
        on connection: isolated PostgresConnection
    ) throws -> [UInt8] {
        var writer = CustomerWriter(format: .jsonl, quantiles: try ModelStore.valueQuantiles(on: connection))
        var bytes = Array(#"{"customers":["#.utf8)
        var shown = 0
        var last: CustomerCursor?
        var more = false
        _ = try rows(probe, on: connection) { row in
            guard shown < size else {
                more = true
                return
            }
            if shown > 0 { bytes.append(UInt8(ascii: ",")) }
            writer.appendObject(row, into: &bytes)
            shown += 1
            last = cursor(after: row, query: probe)
        }
        bytes.append(contentsOf: #"],"next":"#.utf8)
        if more, let last {
            bytes.appendJSONString(last.encoded)
        } else {
            bytes.append(contentsOf: "null".utf8)
        }
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// The whole selection as CSV for `GET /customers` with `Accept: text/csv`: keyset pages of `pageSize`, each
    /// read in its own short transaction on a pooled connection and handed to `write` before the next is read (so
    /// a slow client holds no connection). Every customer comes once, in order, even while a rescoring rewrites
    /// scores; a customer whose figures change between pages is written as the page that reached it saw it.
    public static func csvPages(
        _ query: CustomerQuery,
        pool: PostgresPool,
        pageSize: Int = 5_000,
        write: @Sendable ([UInt8]) async throws -> Void
    ) async throws {
        try await write(csvHeader)
        var page = CSVPage(query: query, pageSize: pageSize)
        while let bytes = try await page.next(pool: pool) { try await write(bytes) }
    }

    /// The CSV header line of every export.
    public static var csvHeader: [UInt8] { CustomerColumns.csvHeader }

    /// The rows of a selection as CSV, one keyset page per ``next(pool:)``: for writers that cannot hand a closure
    /// to ``csvPages(_:pool:pageSize:write:)`` (an HTTP framework's response writer).
    public struct CSVPage: Sendable {
        private var query: CustomerQuery
        private let pageSize: Int
        private var remaining: Int
        private var done = false
        /// The newest model's quantiles (`three_degree.contribution`), read with the first page and kept for the
        /// rest: once per export, as every other list reads them once per request.
        private var quantiles: ValueQuantiles??

        public init(query: CustomerQuery, pageSize: Int = 5_000) {
            self.query = query
            self.pageSize = pageSize
            self.remaining = query.limit ?? .max
        }

        /// The next page's rows (CRLF-terminated), or nil after the last.
        public mutating func next(pool: PostgresPool) async throws -> [UInt8]? {
            guard !done, remaining > 0 else { return nil }
            var page = query
            page.limit = min(pageSize, remaining)
            let current = page
            let known = quantiles
            let (bytes, count, last, read) = try await pool.transaction { connection in
                let read = try known ?? ModelStore.valueQuantiles(on: connection)
                var writer = CustomerWriter(format: .csv, quantiles: read)
                var bytes: [UInt8] = []
                var last: CustomerCursor?
                let count = try stream(current, on: connection) { row in
                    writer.append(row, into: &bytes)
                    last = cursor(after: row, query: current)
                }
                return (bytes, count, last, read)
            }
            quantiles = read
            remaining -= count
            if count == current.limit, let last {
                query.after = last
            } else {
                done = true
            }
            return bytes
        }
    }

    /// The cursor that starts the next page after `row`.
    static func cursor(after row: CopyFields, query: CustomerQuery) -> CustomerCursor {
        CustomerCursor(
            sort: query.sort.description,
            value: query.carriesSortKey ? row.string(CustomerColumns.sources.count) : nil,
            customerID: row.string(CustomerColumns.customerIDField) ?? ""
        )
    }
}
