/// Capped exponential back-off with jitter.
public enum Backoff {
    /// 100 ms doubled per attempt up to `max`, with up to 20% random jitter so replicas spread out.
    public static func delay(attempt: Int, base: Duration = .milliseconds(100), max: Duration) -> Duration {
        let exponent = Swift.min(attempt - 1, 20)
        let raw = base * (1 << Swift.max(exponent, 0))
        let capped = Swift.min(raw, max)
        return capped * Double.random(in: 0.8...1.0)
    }
}
