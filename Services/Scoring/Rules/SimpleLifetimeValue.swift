import CRMSupport
import Foundation

/// Settings of the simple lifetime value. Config key prefix `crm.scoring.simple_clv`.
public struct SimpleLifetimeValueSettings: Hashable, Sendable, Codable {
    /// Years of further purchasing assumed for every customer: the formula's duration. Default 3.
    public var expectedLifetimeYears: Double
    /// Shortest observation window in days used for the purchase rate. Default 365.
    ///
    /// A customer seen for a week with one purchase would otherwise buy 52 times a year; with the
    /// default, a customer younger than a year is credited with the purchases of their first year.
    public var minimumObservationDays: Double

    /// Creates settings; every argument has the documented default.
    public init(expectedLifetimeYears: Double = 3, minimumObservationDays: Double = 365) {
        self.expectedLifetimeYears = expectedLifetimeYears
        self.minimumObservationDays = minimumObservationDays
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = SimpleLifetimeValueSettings()
        self.init(
            expectedLifetimeYears: try container.decode(
                .expectedLifetimeYears,
                default: defaults.expectedLifetimeYears
            ),
            minimumObservationDays: try container.decode(
                .minimumObservationDays,
                default: defaults.minimumObservationDays
            )
        )
    }

    /// Throws ``ScoringRulesError`` unless the lifetime is non-negative and the window at least one day.
    public func validate() throws {
        try ScoringRulesError.require(
            expectedLifetimeYears >= 0 && expectedLifetimeYears.isFinite,
            "expectedLifetimeYears must be a finite number ≥ 0, got \(expectedLifetimeYears)"
        )
        try ScoringRulesError.require(
            minimumObservationDays >= 1 && minimumObservationDays.isFinite,
            "minimumObservationDays must be a finite number ≥ 1, got \(minimumObservationDays)"
        )
    }
}

/// The `clv.simple` figure: value = amount × frequency × duration, with its parts kept for explanations.
///
/// - amount: net value per purchase = net value ÷ purchases (margin where every order carries cost).
/// - frequency: purchases per year = purchases ÷ max(days since the first purchase, minimum window) × 365.
/// - duration: `expectedLifetimeYears`, the same for every customer.
///
/// The rate runs to the as-of time, not to the last purchase, so a long silence lowers it; the
/// last purchase date therefore does not enter. Nothing here discounts for churn or for time:
/// that is what the model's `clv.predicted` is for. A customer with negative margin projects a
/// negative value, which the nine-grid needs to see.
public struct SimpleLifetimeValue: Hashable, Sendable {
    /// Days in a year for the rate; calendar precision is not the point of a simple estimate.
    public static let daysPerYear = 365.0

    /// Net value realised so far (`clv.historical`), currency units.
    public let historical: Double
    /// Net value per purchase, currency units; 0 without purchases.
    public let averagePerPurchase: Double
    /// Purchases per year over the observation window.
    public let purchasesPerYear: Double
    /// Years of further purchasing assumed.
    public let remainingYears: Double

    /// The simple lifetime value (`clv.simple`), currency units: amount × frequency × duration.
    public var value: Double { averagePerPurchase * purchasesPerYear * remainingYears }

    /// Computes the estimate for one customer.
    ///
    /// - Parameters:
    ///   - netValue: Net value of all purchases less refunds; margin when every order carries cost.
    ///   - purchaseCount: Number of purchases; 0 gives a value of 0.
    ///   - firstPurchaseAt: The first purchase; nil when there is none.
    ///   - asOf: The scoring time; the wall clock, or the as-of time of a replay.
    ///   - settings: Lifetime and minimum window.
    public init(
        netValue: Double,
        purchaseCount: Int,
        firstPurchaseAt: Date?,
        asOf: Date,
        settings: SimpleLifetimeValueSettings = SimpleLifetimeValueSettings()
    ) {
        self.historical = netValue
        self.remainingYears = max(settings.expectedLifetimeYears, 0)
        guard purchaseCount > 0, let firstPurchaseAt else {
            self.averagePerPurchase = 0
            self.purchasesPerYear = 0
            return
        }
        let observedDays = asOf.timeIntervalSince(firstPurchaseAt) / 86_400
        let windowDays = max(observedDays, settings.minimumObservationDays, 1)
        self.averagePerPurchase = netValue / Double(purchaseCount)
        self.purchasesPerYear = Double(purchaseCount) / windowDays * Self.daysPerYear
    }
}
