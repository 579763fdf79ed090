import Dispatch

/// Work started at once on a thread of its own and collected later: how a producer stays one step ahead of a consumer
/// that spends its time waiting on something else. A full rescoring scores the next chunk of customers while its
/// connection's thread waits for PostgreSQL to take the chunk before.
public final class Ahead<Value>: @unchecked Sendable {
    // Written once by the worker before it signals, read only after the wait: the semaphore orders the two.
    private var result: Result<Value, any Error>?
    private let finished = DispatchSemaphore(value: 0)

    /// Starts `work` on a thread of the system's pool.
    public init(_ work: @escaping @Sendable () throws -> Value) {
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            result = Result(catching: work)
            finished.signal()
        }
    }

    /// Waits for the work to end and returns what it returned, or throws what it threw; a second call returns the same.
    public func value() throws -> Value {
        finished.wait()
        defer { finished.signal() }  // for the next call, which would otherwise wait for ever
        return try result!.get()
    }
}
