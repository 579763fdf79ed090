import CRMContract
import CRMSupport

/// Value-at-risk bands that map an alert to p1, p2 or p3. Config key prefix `crm.alerts.priority`.
///
/// | value at risk (currency units) | priority |
/// |--------------------------------|----------|
/// | ≥ `p1Minimum` (default 1000)   | p1       |
/// | ≥ `p2Minimum` (default 200)    | p2       |
/// | below                          | p3       |
///
/// The defaults suit a base whose typical predicted value is a few hundred; set them from the
/// value-at-risk distribution of the first full rescoring (for example its 95th and 75th percentiles).
public struct PriorityBands: Hashable, Sendable, Codable {
    /// Lowest value at risk that is p1, currency units. Default 1000.
    public var p1Minimum: Double
    /// Lowest value at risk that is p2, currency units. Default 200.
    public var p2Minimum: Double

    /// Creates bands; every argument has the documented default.
    public init(p1Minimum: Double = 1000, p2Minimum: Double = 200) {
        self.p1Minimum = p1Minimum
        self.p2Minimum = p2Minimum
    }

    /// Decodes bands; a missing key keeps its documented default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = PriorityBands()
        self.init(
            p1Minimum: try container.decode(.p1Minimum, default: defaults.p1Minimum),
            p2Minimum: try container.decode(.p2Minimum, default: defaults.p2Minimum)
        )
    }

    /// The priority of an alert with this value at risk; band minimums are inclusive.
    public func priority(forValueAtRisk valueAtRisk: Double) -> AlertPriority {
        if valueAtRisk >= p1Minimum { return .p1 }
        if valueAtRisk >= p2Minimum { return .p2 }
        return .p3
    }

    /// Throws ``AlertRulesError`` unless 0 ≤ p2Minimum ≤ p1Minimum.
    public func validate() throws {
        try AlertRulesError.require(
            p2Minimum >= 0 && p2Minimum <= p1Minimum && p1Minimum.isFinite,
            "need 0 ≤ priority.p2Minimum ≤ priority.p1Minimum, got \(p2Minimum) and \(p1Minimum)"
        )
    }
}
