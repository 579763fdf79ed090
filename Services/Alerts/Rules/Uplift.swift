/// The uplift of the alerts: the return rate of the alerted group minus the control group's, with the usual 95%
/// interval for a difference of two independent proportions (Wald: p₁ − p₂ ± 1.96 √(p₁q₁/n₁ + p₂q₂/n₂)).
///
/// `n` is each group's alerts with a decided outcome (returned or not returned); pending alerts say nothing yet.
/// With fewer than ``minimumAlerts`` decided alerts in either group the normal approximation does not hold and the
/// figures are shown with that warning (``isConclusive`` is false).
public struct Uplift: Hashable, Sendable {
    /// Below this many decided alerts in a group, no conclusion is drawn.
    public static let minimumAlerts = 30
    /// The two-sided 95% normal quantile.
    public static let z95 = 1.959_963_984_540_054

    /// Alerted minus control return rate.
    public var estimate: Double
    /// The interval's lower bound.
    public var low: Double
    /// The interval's upper bound.
    public var high: Double
    /// Both groups have at least ``minimumAlerts`` decided alerts.
    public var isConclusive: Bool

    /// The uplift of `alertedReturned` of `alertedDecided` against `controlReturned` of `controlDecided`; nil when
    /// either group has no decided alert.
    public init?(alertedReturned: Int, alertedDecided: Int, controlReturned: Int, controlDecided: Int) {
        guard alertedDecided > 0, controlDecided > 0 else { return nil }
        let p1 = Double(alertedReturned) / Double(alertedDecided)
        let p2 = Double(controlReturned) / Double(controlDecided)
        let error = (p1 * (1 - p1) / Double(alertedDecided) + p2 * (1 - p2) / Double(controlDecided)).squareRoot()
        estimate = p1 - p2
        low = estimate - Self.z95 * error
        high = estimate + Self.z95 * error
        isConclusive = min(alertedDecided, controlDecided) >= Self.minimumAlerts
    }

    /// True when the interval lies wholly above zero: the alerts bring customers back.
    public var isPositive: Bool { isConclusive && low > 0 }
}
