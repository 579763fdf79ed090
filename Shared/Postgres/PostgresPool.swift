import CRMSupport
import Logging
import Synchronization

/// A small, fixed pool of `PostgresConnection`s, each on its own thread and opened on first use.
public final class PostgresPool: Sendable {
    private struct State {
        var free: [Int]
        /// Tasks waiting for a connection, first come first served.
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Int, any Error>)] = []
        var nextWaiter: UInt64 = 0
    }

    private let connections: [PostgresConnection]
    private let state: Mutex<State>
    private let logger: Logger
    /// A pool of `size` connections to `url` (`CRM_DATABASE_URL`).
    public init(url: String, size: Int = 4, applicationName: String, logger: Logger) {
        precondition(size > 0, "a pool needs at least one connection")
        connections = (0..<size).map { index in
            PostgresConnection(url: url, applicationName: "\(applicationName)-\(index)", logger: logger)
        }
        state = Mutex(State(free: Array((0..<size).reversed())))
        self.logger = logger
    }

    /// Lends a connection to `body` and takes it back afterwards.
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let index = try await acquire()
        defer { release(index) }
        return try await body(connections[index])
    }

    /// Runs `body` in a transaction on a pooled connection.
    @discardableResult
    public func transaction<T: Sendable>(
        isolation level: PostgresConnection.IsolationLevel = .readCommitted,
        _ body: @Sendable (isolated PostgresConnection) throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try await connection.transaction(isolation: level, body)
        }
    }

    /// Runs `body` in a transaction, retrying outages (server restart, serialization failure)
    /// with back-off until `deadline` passes.
    public func retryingTransaction<T: Sendable>(
        isolation level: PostgresConnection.IsolationLevel = .readCommitted,
        for deadline: Duration = .seconds(60),
        _ body: @Sendable (isolated PostgresConnection) throws -> T
    ) async throws -> T {
        let start = ContinuousClock.now
        var attempt = 0
        while true {
            do {
                return try await transaction(isolation: level, body)
            } catch let outage as PostgresError where outage.isTransient && ContinuousClock.now - start < deadline {
                attempt += 1
                logger.debug("Retrying transaction", metadata: ["error": "\(outage)", "attempt": "\(attempt)"])
                // On graceful shutdown the outage is the answer: a caller such as a queue consumer then leaves its
                // batch unacknowledged instead of holding the shutdown for the rest of the deadline.
                do {
                    try await gracefulSleep(Backoff.delay(attempt: attempt, max: .seconds(5)))
                } catch {
                    throw outage
                }
            }
        }
    }

    /// Runs one statement and returns its rows; `prepared` as for ``PostgresConnection/query(_:_:prepared:)``.
    public func query(
        _ sql: String,
        _ parameters: [(any PostgresEncodable)?] = [],
        prepared: Bool = false
    ) async throws -> [PostgresRow] {
        try await withConnection { try await $0.query(sql, parameters, prepared: prepared) }
    }

    /// Runs one statement and returns the number of affected rows; `prepared` as for ``PostgresConnection/query(_:_:prepared:)``.
    @discardableResult
    public func execute(
        _ sql: String,
        _ parameters: [(any PostgresEncodable)?] = [],
        prepared: Bool = false
    ) async throws -> Int {
        try await withConnection { try await $0.execute(sql, parameters, prepared: prepared) }
    }

    /// Whether the database answers a trivial query.
    public func isReachable() async -> Bool {
        do {
            try await withConnection { try await $0.ping() }
            return true
        } catch {
            return false
        }
    }

    /// Closes every connection.
    public func close() async {
        for connection in connections { await connection.close() }
    }

    /// A free connection's index; waits for one, and throws `CancellationError` if the task is cancelled meanwhile.
    private func acquire() async throws -> Int {
        if let index = state.withLock({ $0.free.popLast() }) { return index }
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                enum Outcome {
                    case index(Int)
                    case cancelled, waiting
                }
                let outcome: Outcome = state.withLock { state in
                    if let index = state.free.popLast() { return .index(index) }
                    // Cancelled before the handler below could find this waiter: it must not wait.
                    if Task.isCancelled { return .cancelled }
                    state.waiters.append((id, continuation))
                    return .waiting
                }
                switch outcome {
                case .index(let index): continuation.resume(returning: index)
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .waiting: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0).continuation }
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private func release(_ index: Int) {
        let waiter: CheckedContinuation<Int, any Error>? = state.withLock { state in
            if state.waiters.isEmpty {
                state.free.append(index)
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        waiter?.resume(returning: index)
    }
}
