internal import CLibPQ
import Foundation

/// Owns one `PGconn`. Touched only from its `PostgresConnection`'s thread.
final class PGHandle {
    private let connection: OpaquePointer
    /// Server-side prepared statements of this connection, by their text: `crm_1`, `crm_2`, ...
    private var preparedNames: [String: String] = [:]
    private var preparedSequence = 0
    /// Most statements a connection keeps prepared; past it, statements run unnamed (parsed and planned each time).
    static let preparedLimit = 64

    init(url: String, applicationName: String) throws(PostgresError) {
        let keywords = ["dbname", "application_name", "connect_timeout"]
        let values = [url, applicationName, "10"]
        let connection = withCStringArray(keywords) { keywords in
            withCStringArray(values) { values in PQconnectdbParams(keywords, values, 1) }
        }
        guard let connection else {
            throw PostgresError(.connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(connection)
            // libpq quotes pieces of a malformed URL back ("invalid percent-encoded token: ..."), password included.
            throw PostgresError(.connectionFailed, message: Self.redacting(message, secretsOf: url))
        }
        crm_pq_silence_notices(connection)
        self.connection = connection
    }

    deinit {
        PQfinish(connection)
    }

    var isHealthy: Bool { PQstatus(connection) == CONNECTION_OK }

    /// The SCRAM-SHA-256 verifier of a role's password, computed here: `CREATE ROLE ... PASSWORD` with it never
    /// sends the password itself to the server (nor into its statement log).
    func encryptPassword(_ password: String, user: String) throws(PostgresError) -> String {
        guard let encrypted = PQencryptPasswordConn(connection, password, user, "scram-sha-256") else {
            let message = String(cString: PQerrorMessage(connection)).trimmingCharacters(in: .whitespacesAndNewlines)
            throw PostgresError(.serverError, message: "cannot encrypt a password: \(message)")
        }
        defer { PQfreemem(encrypted) }
        return String(cString: encrypted)
    }

    /// `message` with every form of the password in `url` (a `postgres://` URI or `key=value` pairs) masked.
    static func redacting(_ message: String, secretsOf url: String) -> String {
        var secrets: [String] = []
        if let scheme = url.range(of: "://") {
            let rest = url[scheme.upperBound...]
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                let raw = String(authority[authority.index(after: colon)..<at])
                secrets += [raw, raw.removingPercentEncoding ?? raw]
            }
        }
        for match in url.matches(of: /password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)/) {
            var value = String(match.output.1)
            if value.hasPrefix("'") { value = String(value.dropFirst().dropLast()) }
            secrets += [value, value.removingPercentEncoding ?? value]
        }
        var redacted = message
        for secret in Set(secrets) where !secret.isEmpty {
            redacted = redacted.replacingOccurrences(of: secret, with: "***")
        }
        return redacted
    }

    /// Runs a script (several statements, no parameters).
    func exec(_ sql: String) throws(PostgresError) {
        let result = PGResult(PQexec(connection, sql))
        try check(result, query: sql)
    }

    /// Runs one statement with text parameters.
    ///
    /// Every parameter's text goes into one buffer, each followed by its terminating NUL, and libpq reads them there:
    /// no per-parameter `String` or C copy.
    ///
    /// With `prepared`, the statement is prepared on the server the first time this connection runs it and executed
    /// by name afterwards: parsed and analysed once, planned generically once PostgreSQL judges that as good as
    /// planning for each call's values. For statements a hot path runs again and again whose plan does not depend on
    /// the size of an array parameter (probes by key, inserts from `unnest`).
    func execParams(
        _ sql: String,
        _ parameters: [(any PostgresEncodable)?],
        prepared: Bool = false
    ) throws(PostgresError) -> PGResult {
        var text: [UInt8] = [0]  // never empty, so always an address
        var starts: [Int?] = []
        starts.reserveCapacity(parameters.count)
        for parameter in parameters {
            let start = text.count
            guard let parameter, parameter.appendPostgresText(to: &text) else {
                starts.append(nil)
                continue
            }
            let holdsNUL = text.withUnsafeBufferPointer { all in
                memchr(all.baseAddress! + start, 0, all.count - start) != nil
            }
            if holdsNUL {
                throw PostgresError(
                    .serverError,
                    message: "a parameter contains a NUL character, which text cannot store",
                    sqlState: "22021",
                    query: sql
                )
            }
            text.append(0)
            starts.append(start)
        }
        let name = prepared ? try preparedName(sql, parameterCount: parameters.count) : nil
        let result = text.withUnsafeBufferPointer { all in
            all.baseAddress!.withMemoryRebound(to: CChar.self, capacity: all.count) { base in
                let values: [UnsafePointer<CChar>?] = starts.map { $0.map { base + $0 } }
                return if let name {
                    PQexecPrepared(connection, name, Int32(parameters.count), values, nil, nil, 0)
                } else {
                    PQexecParams(connection, sql, Int32(parameters.count), nil, values, nil, nil, 0)
                }
            }
        }
        let wrapped = PGResult(result)
        do {
            try check(wrapped, query: sql)
        } catch {
            // A plan whose result type a migration changed ("cached plan must not change result type"), or a
            // statement the server no longer knows: prepared afresh next time.
            if name != nil, error.sqlState == "0A000" || error.sqlState == "26000" { preparedNames[sql] = nil }
            throw error
        }
        return wrapped
    }

    /// The server-side name of `sql`, prepared now if this connection has not prepared it yet; `nil` when the
    /// connection holds its limit of prepared statements.
    private func preparedName(_ sql: String, parameterCount: Int) throws(PostgresError) -> String? {
        if let name = preparedNames[sql] { return name }
        guard preparedNames.count < Self.preparedLimit else { return nil }
        preparedSequence += 1
        let name = "crm_\(preparedSequence)"
        // Parameter types come from the statement's casts (`$1::text[]`), as they do for an unnamed statement.
        try check(PGResult(PQprepare(connection, name, sql, Int32(parameterCount), nil)), query: sql)
        preparedNames[sql] = name
        return name
    }

    /// Streams rows through `COPY ... FROM STDIN` in text format.
    func copyIn(_ statement: String, rows: some Sequence<[(any PostgresEncodable)?]>) throws(PostgresError) -> Int {
        try startCopyIn(statement)
        var buffer = [UInt8]()
        buffer.reserveCapacity(1 << 16)
        func flush() -> Bool { send(&buffer) }
        var sent = true
        for row in rows where sent {
            for (index, value) in row.enumerated() {
                if index > 0 { buffer.append(9) }
                let start = buffer.count
                guard let value, value.appendPostgresText(to: &buffer) else {
                    buffer.append(contentsOf: [92, 78])  // \N
                    continue
                }
                buffer.backslashEscape(from: start) { byte in
                    switch byte {
                    case 92: 92  // \\
                    case 9: 116  // \t
                    case 10: 110  // \n
                    case 13: 114  // \r
                    default: nil
                    }
                }
            }
            buffer.append(10)
            if buffer.count >= 1 << 16 { sent = flush() }
        }
        if sent { sent = flush() }
        return try finishCopyIn(statement, sent: sent)
    }

    /// Streams rows through `COPY ... FROM STDIN (FORMAT binary)`: `row` writes each element's `fields` fields.
    func copyInBinary<Element>(
        _ statement: String,
        fields: Int,
        rows: some Sequence<Element>,
        row: (Element, inout CopyBinaryRow) -> Void
    ) throws(PostgresError) -> Int {
        try startCopyIn(statement)
        var buffer = CopyBinaryRow(capacity: 1 << 17)
        CopyBinaryRow.header.withUnsafeBytes { buffer.append($0) }
        var sent = true
        func flush() {
            sent = send(buffer.written)
            buffer.removeAll()
        }
        for element in rows where sent {
            buffer.start(fields: fields)
            row(element, &buffer)
            if buffer.count >= 1 << 16 { flush() }
        }
        if sent {
            CopyBinaryRow.trailer.withUnsafeBytes { buffer.append($0) }
            flush()
        }
        return try finishCopyIn(statement, sent: sent)
    }

    private func startCopyIn(_ statement: String) throws(PostgresError) {
        let start = PGResult(PQexec(connection, statement))
        guard start.status == PGRES_COPY_IN else {
            try check(start, query: statement)
            throw PostgresError(.serverError, message: "COPY did not start", query: statement)
        }
    }

    /// Hands `buffer` to libpq and empties it; false when the connection failed.
    private func send(_ buffer: inout [UInt8]) -> Bool {
        defer { buffer.removeAll(keepingCapacity: true) }
        return buffer.withUnsafeBytes { send($0) }
    }

    /// Hands `bytes` to libpq; false when the connection failed.
    private func send(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return true }
        return PQputCopyData(connection, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count)) == 1
    }

    /// Ends a COPY FROM STDIN (aborting it when not everything was sent) and returns the rows it stored.
    private func finishCopyIn(_ statement: String, sent: Bool) throws(PostgresError) -> Int {
        PQputCopyEnd(connection, sent ? nil : "client failed to send data")
        var affected = 0
        var failure: PostgresError?
        while let next = PQgetResult(connection) {
            let result = PGResult(next)
            do {
                try check(result, query: statement)
                affected = result.affectedRows
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return affected
    }

    /// Streams the rows of `COPY ... TO STDOUT` (text format) to `body`, one line at a time without its
    /// newline; returns the row count. The stream is drained even when `body` throws, so the connection
    /// stays usable, and the first error is rethrown.
    func copyOut(_ statement: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        try copyOutMessages(statement) { message in
            var count = message.count
            if count > 0, message[count - 1] == 10 { count -= 1 }
            try body(UnsafeRawBufferPointer(rebasing: message[0..<count]))
            return true
        }
    }

    /// Streams the rows of `COPY ... TO STDOUT (FORMAT binary)` to `body`, one row at a time; returns the row count.
    /// PostgreSQL sends the stream's header with the first row and its trailer (a field count of -1) on its own; both
    /// are checked and passed over. Drained and rethrown as ``copyOut(_:_:)`` is.
    func copyOutBinary(_ statement: String, _ body: (inout CopyBinaryFields) throws -> Void) throws -> Int {
        var started = false
        return try copyOutMessages(statement) { message in
            var row = message
            if !started {
                let header = CopyBinaryRow.header
                guard row.count >= header.count, row[0..<11].elementsEqual(header[0..<11]) else {
                    throw PostgresError(.decodingFailed, message: "binary COPY without its signature", query: statement)
                }
                let extensionLength = Int(UInt32(bigEndian: row.loadUnaligned(fromByteOffset: 15, as: UInt32.self)))
                guard row.count >= header.count + extensionLength else {
                    throw PostgresError(.decodingFailed, message: "binary COPY header cut short", query: statement)
                }
                row = UnsafeRawBufferPointer(rebasing: row[(header.count + extensionLength)...])
                started = true
            }
            if row.count == 2, row[0] == 0xFF, row[1] == 0xFF { return false }  // the trailer
            var fields = try CopyBinaryFields(row: row)
            try body(&fields)
            return true
        }
    }

    /// Runs `COPY ... TO STDOUT` and hands each CopyData message to `body`, which says whether it was a row; returns
    /// the rows. The stream is drained even when `body` throws, so the connection stays usable, and the first error is
    /// rethrown.
    private func copyOutMessages(
        _ statement: String,
        _ body: (UnsafeRawBufferPointer) throws -> Bool
    ) throws -> Int {
        let start = PGResult(PQexec(connection, statement))
        guard start.status == PGRES_COPY_OUT else {
            try check(start, query: statement)
            throw PostgresError(.serverError, message: "COPY did not start", query: statement)
        }
        var rows = 0
        var failure: (any Error)?
        while true {
            var line: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(connection, &line, 0)
            guard length > 0, let line else { break }
            defer { PQfreemem(line) }
            guard failure == nil else { continue }
            do {
                if try body(UnsafeRawBufferPointer(start: line, count: Int(length))) { rows += 1 }
            } catch {
                failure = error
            }
        }
        while let next = PQgetResult(connection) {
            let result = PGResult(next)
            do {
                try check(result, query: statement)
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return rows
    }

    private func check(_ result: PGResult, query: String) throws(PostgresError) {
        switch result.status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_COPY_IN, PGRES_EMPTY_QUERY:
            return
        default:
            let state = result.field(67)  // PG_DIAG_SQLSTATE: 'C'
            let primary = result.field(77)  // PG_DIAG_MESSAGE_PRIMARY: 'M'
            let message = primary ?? String(cString: PQerrorMessage(connection))
            let code: PostgresError.Code = isHealthy && state != nil ? .serverError : .connectionFailed
            throw PostgresError(
                code,
                message: message.trimmingCharacters(in: .whitespacesAndNewlines),
                sqlState: state,
                query: query
            )
        }
    }
}

/// Owns one `PGresult`.
final class PGResult {
    private let result: OpaquePointer?

    init(_ result: OpaquePointer?) {
        self.result = result
    }

    deinit {
        PQclear(result)
    }

    var status: ExecStatusType { result.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR }

    var affectedRows: Int {
        guard let result, let text = PQcmdTuples(result) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    func field(_ code: Int32) -> String? {
        guard let result, let value = PQresultErrorField(result, code) else { return nil }
        return String(cString: value)
    }

    func rows() -> [PostgresRow] {
        guard let result else { return [] }
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        guard rowCount > 0 else { return [] }
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var values: [String?] = []
        values.reserveCapacity(rowCount * columnCount)
        for row in 0..<Int32(rowCount) {
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, row, column)))
                }
            }
        }
        return (0..<rowCount).map { index in
            PostgresRow(columns: columns, values: values[(index * columnCount)..<((index + 1) * columnCount)])
        }
    }
}

/// Copies strings into C memory for one call, as a NULL-terminated array.
private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { for copy in copies { free(copy) } }
    let pointers = copies.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
