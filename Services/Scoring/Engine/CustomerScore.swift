import CRMContract
import Foundation

/// One customer's complete score: the row of `customer_scores` and the object `crm customer` shows.
public struct CustomerScore: Sendable, Hashable {
    public var customerID: String
    public var modelID: Int64?
    /// The as-of time of the scoring.
    public var scoredAt: Date
    public var activity: CustomerActivity
    /// Days from the last purchase to the as-of time, whole days; nil without purchases.
    public var recencyDays: Int?
    public var rfm: RFMScore?
    public var clv: CLVFigures
    public var pAlive: Double?
    public var expectedPurchases90d: Double?
    public var lifecycle: LifecycleRule
    public var tier: ValueTier
    public var grid: NineGridCell?

    /// Lifecycle stage.
    public var stage: LifecycleStage { lifecycle.stage }
    /// Mean spend per purchase order.
    public var monetaryAverage: Double { activity.orderCount > 0 ? activity.netValue / Double(activity.orderCount) : 0 }

    /// Whether every figure a score must have is a number: a customer whose orders add up to no finite value (data
    /// stored before today's limits) is reported and left out, never allowed to stop the scoring of the others.
    public var isWritable: Bool {
        [activity.netRevenue, activity.netValue, monetaryAverage, clv.historical, clv.simple].allSatisfy(\.isFinite)
    }
}

/// What a customer's previous score said, as far as the next scoring needs it.
public struct PreviousScore: Sendable, Hashable {
    public var stage: LifecycleStage
    public var tier: ValueTier
    public var pAlive: Double?
    public var lastPurchaseAt: Date?
    public var grid: String?
    /// The as-of time of that score.
    public var scoredAt: Date
    /// The digest of its codes, counts and money (``CustomerScore/figuresDigest``); nil when it has none (stored
    /// before digests were) or the reader did not ask for it.
    public var figuresDigest: Int64? = nil
    /// Its daily figures, which ``KeptScores`` compares with today's.
    public var expectedPurchases90d: Double? = nil
    public var clvSimple: Double? = nil
    public var clvPredicted: Double? = nil

    var scoring: PreviousScoring { PreviousScoring(stage: stage, pAlive: pAlive, lastOrderAt: lastPurchaseAt) }
}

/// The model-based figures of one customer, by the selected purchase model (``ScoringModel/selected``); all nil
/// without purchases or without a fitted purchase model, and `predicted` nil without a fitted Gamma-Gamma.
///
/// A figure that is not finite is nil, never NaN, and p_alive is kept within [0, 1]: a score is stored and
/// compared by rules that must not meet NaN.
public struct CustomerPredictions: Sendable, Hashable {
    /// Probability that the customer is still active.
    public var pAlive: Double?
    /// Expected repeat purchases in the next 90 days.
    public var expected90d: Double?
    /// Predicted lifetime value over the horizon, discounted (purchase model × Gamma-Gamma).
    public var predicted: Double?

    /// No predictions.
    public static let none = CustomerPredictions()

    public init(pAlive: Double? = nil, expected90d: Double? = nil, predicted: Double? = nil) {
        self.pAlive = pAlive.flatMap { $0.isFinite ? min(max($0, 0), 1) : nil }
        self.expected90d = expected90d.flatMap { $0.isFinite ? $0 : nil }
        self.predicted = predicted.flatMap { $0.isFinite ? $0 : nil }
    }
}

/// Turns a customer's activity into a score with a given model: the one place the rules meet the models.
public struct CustomerScorer: Sendable {
    public let model: ScoringModel
    private let classifier: LifecycleClassifier
    private let tiering: ValueTiering?
    private let rfm: RFMScorer?

    /// A scorer for `model`; without tier cut-offs every customer is bronze, without RFM quintiles `rfm` is nil.
    public init(model: ScoringModel) {
        self.model = model
        classifier = LifecycleClassifier(settings: model.settings.lifecycle)
        tiering = model.tierCutoffs.map { ValueTiering(cutoffs: $0, settings: model.settings.tiering) }
        rfm = model.rfm.map { RFMScorer(breakpoints: $0) }
    }

    /// The model-based figures of one customer by the selected purchase model: p_alive, expected purchases in
    /// 90 days, predicted value.
    public func predictions(_ activity: CustomerActivity) -> CustomerPredictions {
        guard let summary = activity.summary, let transactions = model.purchaseModel else { return .none }
        return PurchaseModels.predictions(
            transactions,
            spend: model.gammaGamma?.parameters,
            summary: summary,
            settings: model.settings
        )
    }

    /// Historical and plain-formula value.
    public func plainValues(_ activity: CustomerActivity, asOf: Date) -> (historical: Double, simple: Double) {
        let simple = SimpleLifetimeValue(
            netValue: activity.netValue,
            purchaseCount: activity.orderCount,
            firstPurchaseAt: activity.firstPurchaseAt,
            asOf: asOf,
            settings: model.settings.simpleValue
        )
        return (activity.netValue, simple.value)
    }

    /// The RFM raw values of a customer with purchases.
    public static func rfmValues(_ activity: CustomerActivity, asOf: Date) -> RFMValues? {
        RFMValues(
            purchaseCount: activity.orderCount,
            netValue: activity.netValue,
            lastPurchaseAt: activity.lastPurchaseAt,
            asOf: asOf
        )
    }

    /// Scores one customer. `predictions` may be passed in when computed in bulk.
    public func score(
        customerID: String,
        activity: CustomerActivity,
        previous: PreviousScore?,
        asOf: Date,
        predictions given: CustomerPredictions? = nil
    ) -> CustomerScore {
        let predictions = given ?? predictions(activity)
        let plain = plainValues(activity, asOf: asOf)
        let clv = CLVFigures(historical: plain.historical, simple: plain.simple, predicted: predictions.predicted)
        let trends = classifier.trends(
            CustomerFacts(asOf: asOf, recent: activity.recent, earlier: activity.earlier)
        )
        var tier = ValueTier.bronze
        var grid: NineGridCell?
        if activity.orderCount > 0 {
            if let tiering {
                let placement = tiering.place(clv, marginRate: activity.marginRate, trend: trends.spend)
                tier = placement.tier
                grid = placement.cell
            } else {
                grid = nil
            }
        }
        let facts = CustomerFacts(
            asOf: asOf,
            orderCount: activity.orderCount,
            repeatTransactions: activity.repeatTransactions,
            firstOrderAt: activity.firstPurchaseAt,
            lastOrderAt: activity.lastPurchaseAt,
            netRevenue: activity.netRevenue,
            netMargin: nil,
            recent: activity.recent,
            earlier: activity.earlier,
            pAlive: predictions.pAlive,
            expectedIntervalDays: activity.expectedIntervalDays,
            valueTier: tier,
            // A score from after the as-of time (a replay of the past) says nothing about the customer then.
            previous: previous.flatMap { $0.scoredAt <= asOf ? $0.scoring : nil }
        )
        let rfmValues = Self.rfmValues(activity, asOf: asOf)
        return CustomerScore(
            customerID: customerID,
            modelID: model.modelID,
            scoredAt: asOf,
            activity: activity,
            recencyDays: rfmValues?.recencyDays,
            rfm: rfmValues.flatMap { values in rfm?.score(values) },
            clv: clv,
            pAlive: predictions.pAlive,
            expectedPurchases90d: predictions.expected90d,
            lifecycle: classifier.rule(for: facts),
            tier: tier,
            grid: grid
        )
    }

    /// Whether a new score is worth a `customer.scored` event: a change of stage or tier, or p_alive moved by at
    /// least the setting. A first score is a move only into decline or termination: the others need nobody's
    /// attention yet, and a first full rescoring of a large base would otherwise announce every customer.
    public func isNotable(_ score: CustomerScore, previous: PreviousScore?) -> Bool {
        guard score.pAlive != nil else { return false }
        guard let previous else { return score.stage == .decline || score.stage == .termination }
        if previous.stage != score.stage || previous.tier != score.tier { return true }
        guard let before = previous.pAlive, let now = score.pAlive else { return true }
        return abs(before - now) >= model.settings.eventPAliveChange - 1e-12
    }

    /// Whether the change is one the history keeps: a new stage or tier, or the first scoring.
    public static func changesHistory(_ score: CustomerScore, previous: PreviousScore?) -> Bool {
        guard let previous else { return true }
        return previous.stage != score.stage || previous.tier != score.tier
    }
}
