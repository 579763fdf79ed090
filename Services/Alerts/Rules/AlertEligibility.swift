import CRMContract
import CRMSupport

/// Which customers may get retention alerts at all: retain the right customers, not every customer.
///
/// A customer is eligible when the previous or the current snapshot meets every minimum that is
/// set. Looking at the previous snapshot matters: the very risk an alert reports (p_alive
/// falling, a tier lost) drags the current tier and predicted value down, and a rule on the
/// current snapshot alone would go quiet exactly when a valuable customer starts to leave.
/// With no minimum set every customer is eligible. Config key prefix `crm.alerts.eligibility`.
public struct AlertEligibility: Hashable, Sendable, Codable {
    /// Lowest tier that gets alerts; nil for no tier minimum. Default gold, the top fifth by value that carries most
    /// of it: on the CDNOW base a silver customer's value at risk averages a sixteenth of a p2 alert's, and desk time
    /// spent on them is taken from the gold ones. Lower it to silver when desks have the room.
    public var minimumTier: ValueTier?
    /// Lowest predicted lifetime value that gets alerts, currency units; nil for none. Default nil.
    public var minimumPredictedValue: Double?

    /// Creates the filter; every argument has the documented default.
    public init(minimumTier: ValueTier? = .gold, minimumPredictedValue: Double? = nil) {
        self.minimumTier = minimumTier
        self.minimumPredictedValue = minimumPredictedValue
    }

    /// Decodes the filter; a missing key keeps its default, an explicit `null` switches that minimum off.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = AlertEligibility()
        self.init(
            minimumTier: try container.decodeOptional(.minimumTier, default: defaults.minimumTier),
            minimumPredictedValue: try container.decodeOptional(
                .minimumPredictedValue,
                default: defaults.minimumPredictedValue
            )
        )
    }

    /// True when the customer may be alerted, judged on the previous and the current snapshot.
    public func isEligible(previous: ScoreSnapshot?, current: ScoreSnapshot) -> Bool {
        meetsMinimums(current) || previous.map(meetsMinimums) == true
    }

    /// True when one snapshot meets every minimum that is set; an unknown predicted value does not.
    public func meetsMinimums(_ snapshot: ScoreSnapshot) -> Bool {
        if let minimumTier, snapshot.tier < minimumTier { return false }
        if let minimumPredictedValue {
            guard let predicted = snapshot.predictedValue, predicted >= minimumPredictedValue else { return false }
        }
        return true
    }

    /// Throws ``AlertRulesError`` when the predicted-value minimum is negative or not a number.
    public func validate() throws {
        if let minimumPredictedValue {
            try AlertRulesError.require(
                minimumPredictedValue.isFinite && minimumPredictedValue >= 0,
                "eligibility.minimumPredictedValue must be a finite amount ≥ 0, got \(minimumPredictedValue)"
            )
        }
    }
}
