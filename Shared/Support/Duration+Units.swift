import Dispatch

extension Duration {
    /// The duration as a Dispatch interval, rounded to nanoseconds.
    public var dispatchInterval: DispatchTimeInterval {
        .nanoseconds(Int(clamping: nanoseconds))
    }

    /// The whole duration in nanoseconds, saturating.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow
            ? Int64.max : seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// The whole duration in milliseconds, rounded down and saturating.
    public var milliseconds: Int64 {
        nanoseconds / 1_000_000
    }

    /// The duration in seconds as a floating-point number.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
