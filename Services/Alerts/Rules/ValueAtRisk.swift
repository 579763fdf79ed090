import CRMSupport

/// How `value_at_risk` is measured.
public enum ValueAtRiskMethod: String, Codable, Hashable, Sendable, CaseIterable {
    /// Predicted value if the customer stays, times the chance they are gone (the default).
    ///
    /// `predicted ÷ p_alive × (1 − p_alive)`. The model's predicted value already carries p_alive
    /// (it is the value if alive times p_alive), so dividing recovers the value the customer
    /// brings if retained; the product is what we stand to lose. It grows as p_alive falls.
    case retainedValue = "retained_value"
    /// `predicted × (1 − p_alive)`, the plain formula.
    ///
    /// Because the prediction already shrinks with p_alive, this peaks at p_alive = 0.5 and goes to
    /// zero for the customers most surely lost: it ranks customers "on the fence", not value at risk.
    case predictedTimesChurn = "predicted_times_churn"
}

/// Computes an alert's `value_at_risk` from predicted lifetime value and p_alive.
/// Config key prefix `crm.alerts.value_at_risk`.
public struct ValueAtRisk: Hashable, Sendable, Codable {
    /// The measure. Default `retained_value`.
    public var method: ValueAtRiskMethod
    /// Smallest p_alive divided by in `retained_value`. Default 0.05.
    ///
    /// The stored prediction is rounded money; dividing a rounded cent by p_alive = 0.001 would turn
    /// rounding into hundreds. Below the floor the measure tapers off with the prediction: such a
    /// customer is almost surely gone already, and the termination reason says so.
    public var pAliveFloor: Double

    /// Creates the measure; every argument has the documented default.
    public init(method: ValueAtRiskMethod = .retainedValue, pAliveFloor: Double = 0.05) {
        self.method = method
        self.pAliveFloor = pAliveFloor
    }

    /// Decodes the measure; a missing key keeps its documented default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ValueAtRisk()
        self.init(
            method: try container.decode(.method, default: defaults.method),
            pAliveFloor: try container.decode(.pAliveFloor, default: defaults.pAliveFloor)
        )
    }

    /// Value at risk in currency units, never negative; 0 when either input is unknown.
    ///
    /// Without a fitted model there is nothing to measure, so every alert falls in the lowest band;
    /// its reasons still stand.
    public func amount(predictedValue: Double?, pAlive: Double?) -> Double {
        guard let predictedValue, let pAlive, predictedValue.isFinite, pAlive.isFinite, predictedValue > 0 else {
            return 0
        }
        let alive = min(max(pAlive, 0), 1)
        switch method {
        case .predictedTimesChurn:
            return predictedValue * (1 - alive)
        case .retainedValue:
            return predictedValue / max(alive, pAliveFloor) * (1 - alive)
        }
    }

    /// The value at risk of a snapshot.
    public func amount(for snapshot: ScoreSnapshot) -> Double {
        amount(predictedValue: snapshot.predictedValue, pAlive: snapshot.pAlive)
    }

    /// Throws ``AlertRulesError`` unless the floor is in (0, 1].
    public func validate() throws {
        try AlertRulesError.require(
            pAliveFloor > 0 && pAliveFloor <= 1,
            "valueAtRisk.pAliveFloor must be in (0, 1], got \(pAliveFloor)"
        )
    }
}
