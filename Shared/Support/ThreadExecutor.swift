import Dispatch
import Foundation
import Synchronization

/// A serial executor that runs every job on one dedicated operating-system thread.
///
/// librabbitmq forbids sharing a connection across threads and both C libraries block, so each
/// C handle lives inside an actor whose executor is one of these: the blocking calls stay off
/// Swift's cooperative pool and the handle never changes threads.
///
/// Between jobs the thread wakes at least every `idleInterval` and runs the idle handler, which
/// is where an AMQP connection services its heartbeats.
public final class ThreadExecutor: SerialExecutor, Sendable {
    private struct State: ~Copyable {
        var jobs: [UnownedJob] = []
        var head = 0
        var isShutDown = false
        var idleHandler: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)
    private let threadID = Mutex<pthread_t?>(nil)
    private let idleInterval: Duration
    /// The thread's name, visible in debuggers and `top -H`.
    public let name: String

    /// Starts the thread; it runs until `shutdown()`.
    public init(name: String, idleInterval: Duration = .seconds(1)) {
        self.name = name
        self.idleInterval = idleInterval
        let thread = Thread { [self] in self.runLoop() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        state.withLock { $0.jobs.append(unowned) }
        wakeup.signal()
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func checkIsolated() {
        precondition(isCurrent, "not on the thread of executor \(name)")
    }

    /// Whether the caller runs on this executor's thread.
    public var isCurrent: Bool {
        guard let owner = threadID.withLock({ $0 }) else { return false }
        return pthread_equal(owner, pthread_self()) != 0
    }

    /// Installs the closure the thread runs when it has had no job for `idleInterval`.
    public func setIdleHandler(_ handler: (@Sendable () -> Void)?) {
        state.withLock { $0.idleHandler = handler }
    }

    /// Lets the thread finish the jobs already queued, then end.
    public func shutdown() {
        state.withLock { $0.isShutDown = true }
        wakeup.signal()
    }

    private func runLoop() {
        threadID.withLock { $0 = pthread_self() }
        let executor = asUnownedSerialExecutor()
        while true {
            let next: UnownedJob? = state.withLock { state in
                guard state.head < state.jobs.count else { return nil }
                let job = state.jobs[state.head]
                state.head += 1
                if state.head == state.jobs.count {
                    state.jobs.removeAll(keepingCapacity: true)
                    state.head = 0
                }
                return job
            }
            if let next {
                next.runSynchronously(on: executor)
                continue
            }
            if state.withLock({ $0.isShutDown }) { return }
            if wakeup.wait(timeout: .now() + idleInterval.dispatchInterval) == .timedOut {
                state.withLock { $0.idleHandler }?()
            }
        }
    }
}
