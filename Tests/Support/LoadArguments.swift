import ArgumentParser

/// The command line of the latency benchmarks, `[SECONDS] [RATE]`: how long the measured load runs and how many
/// messages a second it publishes. Each benchmark has its own defaults, given in its overview; anything but a positive
/// number stops it before it starts anything (exit 64, naming the argument).
public struct LoadArguments: ParsableArguments {
    @Argument(help: "Seconds of measured load (the default is in the overview).")
    public var seconds: Int?

    @Argument(help: "Messages published a second (the default is in the overview).")
    public var rate: Int?

    public init() {}

    public func validate() throws {
        if let seconds, seconds <= 0 { throw ValidationError("SECONDS needs a positive number, not \(seconds)") }
        if let rate, rate <= 0 { throw ValidationError("RATE needs a positive number, not \(rate)") }
    }
}
