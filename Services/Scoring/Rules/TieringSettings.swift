import CRMSupport

/// Which lifetime value ranks customers into tiers. Setting `crm.scoring.tiering.value_basis`.
public enum ValueBasis: String, Codable, Hashable, Sendable, CaseIterable {
    /// `clv.predicted` from the model, falling back to `clv.historical` where there is none yet.
    case predicted
    /// `clv.historical`, the net value realised so far.
    case historical
    /// `clv.simple`, the plain amount × frequency × duration projection.
    case simple
}

/// A customer's three lifetime values, the public `clv` object, in currency units.
public struct CLVFigures: Hashable, Sendable, Codable {
    /// Net value realised so far: margin where every order carries cost, revenue otherwise.
    public var historical: Double
    /// The simple projection, see ``SimpleLifetimeValue``.
    public var simple: Double
    /// The model's predicted value; nil before the model is fitted.
    public var predicted: Double?

    /// Creates the figures.
    public init(historical: Double, simple: Double, predicted: Double?) {
        self.historical = historical
        self.simple = simple
        self.predicted = predicted
    }

    /// The value ranked under `basis`, and the basis it actually came from.
    ///
    /// A missing prediction falls back to the historical value rather than to zero: before the
    /// first model fit every customer lacks one, and an empty gold tier would silence every alert.
    public func value(for basis: ValueBasis) -> (value: Double, basis: ValueBasis) {
        switch basis {
        case .predicted:
            if let predicted { return (predicted, .predicted) }
            return (historical, .historical)
        case .historical: return (historical, .historical)
        case .simple: return (simple, .simple)
        }
    }
}

/// Tier and nine-grid settings. Config key prefix `crm.scoring.tiering`.
///
/// Default split 20 / 30 / 50: gold is the Pareto top fifth, silver fills the upper half, bronze
/// is the lower half. Halving the base makes "above the median" the meaning of silver, which is
/// easy to explain and keeps the bronze tier, the one alerts ignore by default, the largest.
public struct TieringSettings: Hashable, Sendable, Codable {
    /// Which lifetime value ranks customers. Default `predicted`.
    public var valueBasis: ValueBasis
    /// Share of the base, by value, that is gold. Default 0.2.
    public var goldShare: Double
    /// Share of the base directly below gold that is silver. Default 0.3.
    public var silverShare: Double
    /// Margin rate at or above which profitability is high. Default 0.30.
    public var highMarginRate: Double
    /// Margin rate below which profitability is low. Default 0.10.
    public var lowMarginRate: Double

    /// Creates settings; every argument has the documented default.
    public init(
        valueBasis: ValueBasis = .predicted,
        goldShare: Double = 0.2,
        silverShare: Double = 0.3,
        highMarginRate: Double = 0.30,
        lowMarginRate: Double = 0.10
    ) {
        self.valueBasis = valueBasis
        self.goldShare = goldShare
        self.silverShare = silverShare
        self.highMarginRate = highMarginRate
        self.lowMarginRate = lowMarginRate
    }

    /// Decodes settings; a missing key keeps its documented default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = TieringSettings()
        self.init(
            valueBasis: try container.decode(.valueBasis, default: defaults.valueBasis),
            goldShare: try container.decode(.goldShare, default: defaults.goldShare),
            silverShare: try container.decode(.silverShare, default: defaults.silverShare),
            highMarginRate: try container.decode(.highMarginRate, default: defaults.highMarginRate),
            lowMarginRate: try container.decode(.lowMarginRate, default: defaults.lowMarginRate)
        )
    }

    /// Throws ``ScoringRulesError`` unless 0 < gold, 0 ≤ silver, gold + silver < 1 and low ≤ high margin.
    public func validate() throws {
        try ScoringRulesError.require(
            goldShare > 0 && silverShare >= 0 && goldShare + silverShare < 1,
            "need goldShare > 0, silverShare ≥ 0 and goldShare + silverShare < 1, got \(goldShare) and \(silverShare)"
        )
        try ScoringRulesError.require(
            lowMarginRate <= highMarginRate && lowMarginRate.isFinite && highMarginRate.isFinite,
            "need lowMarginRate ≤ highMarginRate, got \(lowMarginRate) and \(highMarginRate)"
        )
    }
}
