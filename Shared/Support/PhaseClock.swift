/// Seconds per named phase of a run, each phase timed from the end of the one before.
public struct PhaseClock: Sendable {
    /// The phases ended so far, in order.
    public private(set) var phases: [(name: String, seconds: Double)] = []
    private var mark = ContinuousClock.now

    /// A clock whose first phase starts now.
    public init() {}

    /// Ends the current phase as `name` and starts the next.
    public mutating func lap(_ name: String) {
        let now = ContinuousClock.now
        phases.append((name, (now - mark).seconds))
        mark = now
    }

    /// The seconds of every phase ended so far.
    public var total: Double { phases.reduce(0) { $0 + $1.seconds } }
}
