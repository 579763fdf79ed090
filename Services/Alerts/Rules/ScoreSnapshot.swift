import CRMContract
import Foundation

/// What one scoring concluded about a customer: the part of the stored score the alert rules read.
///
/// The alerts service keeps the snapshot it last evaluated for each customer and compares the next
/// one with it, so every trigger fires on a change and a standing condition is not raised again
/// after a desk has resolved it.
public struct ScoreSnapshot: Hashable, Sendable, Codable {
    /// When scoring produced this snapshot.
    public var scoredAt: Date
    /// The lifecycle stage (`lifecycle_stage`).
    public var stage: LifecycleStage
    /// The value tier (`tier`).
    public var tier: ValueTier
    /// Probability the customer is still active; nil before the model is fitted.
    public var pAlive: Double?
    /// The model's predicted lifetime value (`clv.predicted`), currency units; nil before the model is fitted.
    public var predictedValue: Double?
    /// Purchases so far (`orders_count`).
    public var orderCount: Int
    /// The customer's own typical days between purchases (`expected_interval_days`); nil below two purchases.
    public var expectedIntervalDays: Double?
    /// Days from the last purchase to `scoredAt` (`days_since_last_order`); nil without a purchase.
    public var daysSinceLastOrder: Double?

    /// Creates a snapshot; only time, stage and tier are required.
    public init(
        scoredAt: Date,
        stage: LifecycleStage,
        tier: ValueTier,
        pAlive: Double? = nil,
        predictedValue: Double? = nil,
        orderCount: Int = 0,
        expectedIntervalDays: Double? = nil,
        daysSinceLastOrder: Double? = nil
    ) {
        self.scoredAt = scoredAt
        self.stage = stage
        self.tier = tier
        self.pAlive = pAlive
        self.predictedValue = predictedValue
        self.orderCount = orderCount
        self.expectedIntervalDays = expectedIntervalDays
        self.daysSinceLastOrder = daysSinceLastOrder
    }
}
