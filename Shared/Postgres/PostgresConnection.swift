import CRMSupport
import Foundation
import Logging

/// One libpq connection on a thread of its own.
///
/// Every call is synchronous inside the actor, so a transaction body runs many statements with no
/// hop between them; callers outside pay one hop per transaction. After the server restarts the
/// next call reconnects; the call that met the broken connection fails with a transient error.
public actor PostgresConnection {
    private let executor: ThreadExecutor
    /// The database this connection opens (the outbox keys its relays by it).
    private let url: String
    private let applicationName: String
    private let logger: Logger
    private var handle: PGHandle?
    private var transactionDepth = 0
    /// What the current transaction asked to run once it ends, told whether it committed.
    private var transactionEndActions: [@Sendable (_ committed: Bool) -> Void] = []

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// A connection to `url` (a `postgres://` URI or a libpq key=value string), opened on first use.
    public init(url: String, applicationName: String, logger: Logger) {
        self.url = url
        self.applicationName = applicationName
        self.logger = logger
        executor = ThreadExecutor(name: "pg-\(applicationName)", idleInterval: .seconds(60))
    }

    deinit {
        executor.shutdown()
    }

    // MARK: - Statements

    /// Runs one parameterised statement and returns its rows.
    ///
    /// With `prepared`, the connection prepares the statement on the server the first time and runs it by name
    /// afterwards (parsed and analysed once, its plan cached when PostgreSQL finds a generic plan as good): for the
    /// statements a hot path repeats whose plan does not hinge on how many values an array parameter holds.
    public func query(
        _ sql: String,
        _ parameters: [(any PostgresEncodable)?] = [],
        prepared: Bool = false
    ) throws(PostgresError)
        -> [PostgresRow]
    {
        let result = try run(sql, parameters, prepared: prepared)
        return result.rows()
    }

    /// Runs one parameterised statement and returns the number of rows it affected; `prepared` as for ``query(_:_:prepared:)``.
    @discardableResult
    public func execute(
        _ sql: String,
        _ parameters: [(any PostgresEncodable)?] = [],
        prepared: Bool = false
    ) throws(PostgresError) -> Int {
        try run(sql, parameters, prepared: prepared).affectedRows
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    ///
    /// Nested calls join the outer transaction.
    @discardableResult
    public func transaction<T: Sendable>(
        isolation level: IsolationLevel = .readCommitted,
        _ body: @Sendable (isolated PostgresConnection) throws -> T
    ) throws -> T {
        guard transactionDepth == 0 else { return try body(self) }
        try execute(level == .readCommitted ? "BEGIN" : "BEGIN ISOLATION LEVEL \(level.rawValue)")
        transactionDepth = 1
        defer { transactionDepth = 0 }
        do {
            let value = try body(self)
            try execute("COMMIT")
            endTransaction(committed: true)
            return value
        } catch {
            if handle?.isHealthy == true { _ = try? execute("ROLLBACK") }
            endTransaction(committed: false)
            throw error
        }
    }

    /// Runs `body` on the connection's thread outside any transaction: each statement commits on its own.
    ///
    /// For work whose writes are one statement (atomic by itself), after reads that a READ COMMITTED transaction
    /// would not make more consistent: it saves the round trips of `BEGIN` and `COMMIT`.
    @discardableResult
    public func withoutTransaction<T: Sendable>(_ body: @Sendable (isolated PostgresConnection) throws -> T) throws -> T
    {
        precondition(transactionDepth == 0, "withoutTransaction inside a transaction")
        return try body(self)
    }

    /// Whether a transaction block is open (statements do not commit on their own).
    public var isInTransaction: Bool { transactionDepth > 0 }

    /// Runs `action` when the current transaction ends, telling it whether the transaction committed; outside a
    /// transaction block (a statement commits on its own) it runs at once, as committed.
    ///
    /// A commit whose answer never arrives (the connection broke during `COMMIT`) counts as not committed: the
    /// action must treat "not committed" as "unknown", never as "rolled back for sure".
    public func whenTransactionEnds(_ action: @escaping @Sendable (_ committed: Bool) -> Void) {
        if transactionDepth == 0 {
            action(true)
        } else {
            transactionEndActions.append(action)
        }
    }

    private func endTransaction(committed: Bool) {
        let actions = transactionEndActions
        transactionEndActions = []
        for action in actions { action(committed) }
    }

    /// The isolation level of a transaction.
    public enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    /// Runs a script of several statements with no parameters (migrations only).
    public func executeScript(_ sql: String) throws(PostgresError) {
        let handle = try connected()
        try handle.exec(sql)
    }

    /// Streams the rows of a query in chunks through a cursor, inside the current transaction.
    public func forEachChunk(
        _ sql: String,
        _ parameters: [(any PostgresEncodable)?] = [],
        chunkSize: Int = 10_000,
        _ body: ([PostgresRow]) throws -> Void
    ) throws {
        precondition(transactionDepth > 0, "a cursor needs a transaction")
        let cursor = "crm_cursor_\(UInt32.random(in: 0...UInt32.max))"
        try execute("DECLARE \(cursor) NO SCROLL CURSOR FOR \(sql)", parameters)
        while true {
            let rows = try query("FETCH \(chunkSize) FROM \(cursor)")
            if rows.isEmpty { break }
            try body(rows)
        }
        try execute("CLOSE \(cursor)")
    }

    /// Writes rows with `COPY ... FROM STDIN`, the fastest bulk path; returns the row count.
    ///
    /// `rows` is read once, lazily: a lazy sequence streams a large table without building it in memory.
    @discardableResult
    public func copy(
        into table: String,
        columns: [String],
        rows: some Sequence<[(any PostgresEncodable)?]>
    ) throws(PostgresError) -> Int {
        let handle = try connected()
        let statement = "COPY \(table) (\(columns.joined(separator: ", "))) FROM STDIN"
        return try handle.copyIn(statement, rows: rows)
    }

    /// Streams `rows` into `table` with `COPY ... FROM STDIN (FORMAT binary)`: `row` writes each element's fields,
    /// one per column in `columns`' order (``CopyBinaryRow``); returns the number of rows stored.
    @discardableResult
    public func copyBinary<Element>(
        into table: String,
        columns: [String],
        rows: some Sequence<Element>,
        row: (Element, inout CopyBinaryRow) -> Void
    ) throws(PostgresError) -> Int {
        let handle = try connected()
        let statement = "COPY \(table) (\(columns.joined(separator: ", "))) FROM STDIN (FORMAT binary)"
        return try handle.copyInBinary(statement, fields: columns.count, rows: rows, row: row)
    }

    /// Streams the result of `COPY (query) TO STDOUT` to `body`, one text-format line at a time (columns
    /// separated by tabs, `\\N` for NULL, without the newline); returns the row count.
    ///
    /// COPY takes no bind parameters: pass values through `set_config` in the same transaction and read them
    /// with `current_setting` in the query, never by splicing them into its text.
    @discardableResult
    public func copyOut(_ statement: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        let handle = try connected()
        return try handle.copyOut(statement, body)
    }

    /// Streams the rows of `query` to `body` through `COPY (query) TO STDOUT (FORMAT binary)`, each as a
    /// ``CopyBinaryFields`` to read in the query's column order; returns the row count. What binary COPY spares (the
    /// text of every number, both ways) is worth it for millions of rows; `body` must read each column as its type.
    ///
    /// COPY takes no bind parameters: pass values through `set_config` in the same transaction and read them
    /// with `current_setting` in the query, never by splicing them into its text.
    @discardableResult
    public func copyOutBinary(_ query: String, _ body: (inout CopyBinaryFields) throws -> Void) throws -> Int {
        let handle = try connected()
        return try handle.copyOutBinary("COPY (\(query)) TO STDOUT (FORMAT binary)", body)
    }

    /// The SCRAM-SHA-256 verifier of `password` for the role `user`, computed on the client (libpq's
    /// `PQencryptPasswordConn`), for `CREATE ROLE ... PASSWORD`: the password itself never reaches the server.
    public func encryptedPassword(_ password: String, user: String) throws(PostgresError) -> String {
        try connected().encryptPassword(password, user: user)
    }

    /// Checks the connection with a trivial query.
    public func ping() throws(PostgresError) {
        _ = try query("SELECT 1")
    }

    /// Closes the connection; the next call opens a new one.
    public func close() {
        handle = nil
    }

    // MARK: - Internals

    private func run(
        _ sql: String,
        _ parameters: [(any PostgresEncodable)?],
        prepared: Bool = false
    ) throws(PostgresError) -> PGResult {
        let handle = try connected()
        do {
            return try handle.execParams(sql, parameters, prepared: prepared)
        } catch {
            if !handle.isHealthy {
                logger.warning("PostgreSQL connection lost", metadata: ["error": "\(error)"])
                self.handle = nil
                throw PostgresError(.connectionFailed, message: error.message, sqlState: error.sqlState, query: sql)
            }
            throw error
        }
    }

    private func connected() throws(PostgresError) -> PGHandle {
        if let handle, handle.isHealthy { return handle }
        if transactionDepth > 0 {
            throw PostgresError(.connectionFailed, message: "connection lost inside a transaction")
        }
        handle = nil
        let fresh = try PGHandle(url: url, applicationName: applicationName)
        try fresh.exec("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'")
        handle = fresh
        return fresh
    }
}
