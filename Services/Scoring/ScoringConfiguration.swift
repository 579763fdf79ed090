import CRMSupport
import Foundation

/// Everything a scoring depends on besides the orders: model horizon, lifecycle thresholds, tiering and the
/// rules for publishing `customer.scored` events. One value serves the service, `crm rescore` and the tests.
public struct ScoringConfiguration: Sendable, Hashable, Codable {
    /// The model's time unit in days (`CRM_SCORING_TIME_UNIT_DAYS`, default 7: weeks, as the CDNOW figures).
    public var timeUnitDays: Double = 7
    /// Length of the predicted-value horizon in months (`CRM_SCORING_HORIZON_MONTHS`, default 12).
    public var horizonMonths: Int = 12
    /// Yearly discount rate of predicted value (`CRM_SCORING_DISCOUNT_RATE`, default 0.10).
    public var annualDiscountRate: Double = 0.10
    /// Whether BG/NBD + Gamma-Gamma are fitted; with too few repeat customers the fit is skipped and the
    /// predicted value stays empty. Minimum customers for a fit (`CRM_SCORING_MIN_FIT_CUSTOMERS`, default 50).
    public var minimumFitCustomers: Int = 50
    /// Lifecycle thresholds (`CRM_SCORING_*` as documented in the README).
    public var lifecycle = LifecycleSettings()
    /// Tier shares and grid thresholds.
    public var tiering = TieringSettings()
    /// How RFM's monetary score is taken.
    public var rfm = RFMSettings()
    /// The plain formula's expected remaining years and minimum observation window.
    public var simpleValue = SimpleLifetimeValueSettings()
    /// A change of p_alive at least this large publishes `customer.scored` (`CRM_SCORING_EVENT_P_ALIVE_CHANGE`,
    /// default 0.1); a change of stage or tier always does.
    public var eventPAliveChange: Double = 0.1
    /// The purchase model whose p_alive and predictions the scores carry (`CRM_SCORING_MODEL`, default `auto`:
    /// the lowest holdout error of the newest validation, else BG/NBD). All three are fitted whatever it says.
    public var purchaseModel: PurchaseModelChoice = .auto
    /// With each full rescoring, validate the purchase models on a holdout of this many days before the as-of time
    /// (`CRM_SCORING_VALIDATE_HOLDOUT`, a duration such as `26w`, whole days; default unset: no scheduled
    /// validation, `crm model validate` only).
    public var validationHoldoutDays: Int?

    /// The defaults.
    public init() {}

    /// The model's time unit.
    public var timeUnit: TimeUnit { TimeUnit(days: timeUnitDays) }

    /// The monthly discount rate equivalent to ``annualDiscountRate``.
    public var monthlyDiscountRate: Double { pow(1 + annualDiscountRate, 1.0 / 12) - 1 }

    /// Reads the settings from the environment, every variable optional.
    public init(_ settings: Settings) throws {
        timeUnitDays = try settings.double("CRM_SCORING_TIME_UNIT_DAYS", default: timeUnitDays, in: 1...365)
        horizonMonths = try settings.int("CRM_SCORING_HORIZON_MONTHS", default: horizonMonths, in: 1...240)
        annualDiscountRate = try settings.double("CRM_SCORING_DISCOUNT_RATE", default: annualDiscountRate, in: 0...1)
        minimumFitCustomers = try settings.int(
            "CRM_SCORING_MIN_FIT_CUSTOMERS",
            default: minimumFitCustomers,
            in: 2...Int(Int32.max)
        )
        eventPAliveChange = try settings.double(
            "CRM_SCORING_EVENT_P_ALIVE_CHANGE",
            default: eventPAliveChange,
            in: 0.001...1
        )
        purchaseModel = try settings.choice("CRM_SCORING_MODEL", default: purchaseModel)
        if let raw = settings.string("CRM_SCORING_VALIDATE_HOLDOUT") {
            let holdout = try settings.duration("CRM_SCORING_VALIDATE_HOLDOUT", default: .zero)
            let days = Int((holdout.seconds / 86_400).rounded(.down))
            guard (1...36_500).contains(days) else {
                throw SettingsError(
                    variable: "CRM_SCORING_VALIDATE_HOLDOUT",
                    problem: "expected a holdout of 1 day to 100 years such as 26w or 90d, got \"\(raw)\""
                )
            }
            validationHoldoutDays = days
        }

        var lifecycle = LifecycleSettings()
        lifecycle.terminationPAlive = try settings.double(
            "CRM_SCORING_TERMINATION_P_ALIVE",
            default: lifecycle.terminationPAlive,
            in: 0.001...1
        )
        lifecycle.declinePAlive = try settings.double(
            "CRM_SCORING_DECLINE_P_ALIVE",
            default: lifecycle.declinePAlive,
            in: 0.001...1
        )
        lifecycle.declinePAliveDrop = try settings.double(
            "CRM_SCORING_DECLINE_P_ALIVE_DROP",
            default: lifecycle.declinePAliveDrop,
            in: 0.001...0.999
        )
        lifecycle.declineIntervalMultiple = try settings.double(
            "CRM_SCORING_DECLINE_INTERVAL_MULTIPLE",
            default: lifecycle.declineIntervalMultiple,
            in: 1...100
        )
        lifecycle.terminationIntervalMultiple = try settings.double(
            "CRM_SCORING_TERMINATION_INTERVAL_MULTIPLE",
            default: lifecycle.terminationIntervalMultiple,
            in: 1...100
        )
        lifecycle.declineSilenceDays = try settings.double(
            "CRM_SCORING_DECLINE_SILENCE_DAYS",
            default: lifecycle.declineSilenceDays,
            in: 1...36500
        )
        lifecycle.terminationSilenceDays = try settings.double(
            "CRM_SCORING_TERMINATION_SILENCE_DAYS",
            default: lifecycle.terminationSilenceDays,
            in: 1...36500
        )
        lifecycle.trendRatio = try settings.double(
            "CRM_SCORING_TREND_RATIO",
            default: lifecycle.trendRatio,
            in: 1.01...100
        )
        lifecycle.maturityMinimumTier = try settings.choice(
            "CRM_SCORING_MATURITY_MINIMUM_TIER",
            default: lifecycle.maturityMinimumTier
        )
        do {
            try lifecycle.validate()
        } catch {
            throw SettingsError(variable: "CRM_SCORING_*_P_ALIVE", problem: "\(error)")
        }
        self.lifecycle = lifecycle

        var tiering = TieringSettings()
        tiering.valueBasis = try settings.choice("CRM_SCORING_TIER_BASIS", default: tiering.valueBasis)
        tiering.goldShare = try settings.double("CRM_SCORING_GOLD_SHARE", default: tiering.goldShare, in: 0.001...0.99)
        tiering.silverShare = try settings.double(
            "CRM_SCORING_SILVER_SHARE",
            default: tiering.silverShare,
            in: 0...0.99
        )
        tiering.highMarginRate = try settings.double(
            "CRM_SCORING_HIGH_MARGIN_RATE",
            default: tiering.highMarginRate,
            in: -10...1
        )
        tiering.lowMarginRate = try settings.double(
            "CRM_SCORING_LOW_MARGIN_RATE",
            default: tiering.lowMarginRate,
            in: -10...1
        )
        do {
            try tiering.validate()
        } catch {
            throw SettingsError(variable: "CRM_SCORING_GOLD_SHARE", problem: "\(error)")
        }
        self.tiering = tiering

        simpleValue.expectedLifetimeYears = try settings.double(
            "CRM_SCORING_EXPECTED_LIFETIME_YEARS",
            default: simpleValue.expectedLifetimeYears,
            in: 0...100
        )
    }
}

/// `CRM_SCORING_MODEL`: the purchase model the scores carry, or `auto`.
public enum PurchaseModelChoice: String, Sendable, Hashable, Codable, CaseIterable {
    /// The lowest holdout error of the newest validation; BG/NBD without one.
    case auto
    case bgnbd
    case mbgnbd
    case paretoNBD = "pareto_nbd"

    /// The model named, nil for `auto`.
    public var kind: PurchaseModelKind? { PurchaseModelKind(rawValue: rawValue) }
}

// MARK: - Decoding with defaults

extension ScoringConfiguration {
    /// Decodes the settings stored with a model; a key missing from an older model keeps its default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        timeUnitDays = try container.decode(.timeUnitDays, default: timeUnitDays)
        horizonMonths = try container.decode(.horizonMonths, default: horizonMonths)
        annualDiscountRate = try container.decode(.annualDiscountRate, default: annualDiscountRate)
        minimumFitCustomers = try container.decode(.minimumFitCustomers, default: minimumFitCustomers)
        lifecycle = try container.decode(.lifecycle, default: lifecycle)
        tiering = try container.decode(.tiering, default: tiering)
        rfm = try container.decode(.rfm, default: rfm)
        simpleValue = try container.decode(.simpleValue, default: simpleValue)
        eventPAliveChange = try container.decode(.eventPAliveChange, default: eventPAliveChange)
        purchaseModel = try container.decode(.purchaseModel, default: purchaseModel)
        validationHoldoutDays = try container.decodeIfPresent(Int.self, forKey: .validationHoldoutDays)
    }
}
