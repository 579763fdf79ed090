import CRMContract
import CRMPostgres
import CRMSupport
import Foundation

/// One customer's figures as of one scoring: the snapshot the rules compare, and the `customer` the alert shows.
///
/// They come from a `customer.scored` event (copied unchanged into the alert), from the `customer_scores` row
/// (the sweep, and complaints between scorings) or from this service's own last evaluation.
struct ScoredFigures: Sendable, Hashable {
    /// What the rules read.
    var snapshot: ScoreSnapshot
    /// What the alert's `customer` shows.
    var customer: CustomerValueSnapshot
    /// When the customer last ordered; kept so a stored evaluation can show it again.
    var lastOrderAt: Date?

    var scoredAt: Date { snapshot.scoredAt }

    init(snapshot: ScoreSnapshot, customer: CustomerValueSnapshot, lastOrderAt: Date?) {
        self.snapshot = snapshot
        self.customer = customer
        self.lastOrderAt = lastOrderAt
    }

    /// The figures of a `customer.scored` event; a missing stage or tier is a rejection naming the field.
    init(event: CustomerScoredEvent) throws(MessageRejection) {
        let figures = event.customer
        guard let stage = figures.lifecycleStage else {
            throw MessageRejection(.missingField, field: "customer.lifecycle_stage", "missing")
        }
        guard let tier = figures.tier else { throw MessageRejection(.missingField, field: "customer.tier", "missing") }
        let scoredAt = event.scoredAt.date
        let lastOrderAt = figures.lastOrderAt?.date
        let silence = lastOrderAt.map { max(scoredAt.timeIntervalSince($0), 0) / 86_400 }
        snapshot = ScoreSnapshot(
            scoredAt: scoredAt,
            stage: stage,
            tier: tier,
            pAlive: figures.pAlive,
            predictedValue: figures.clv.map { NSDecimalNumber(decimal: $0.decimal).doubleValue },
            orderCount: figures.ordersCount ?? 0,
            expectedIntervalDays: figures.expectedIntervalDays,
            daysSinceLastOrder: silence ?? figures.daysSinceLastOrder.map(Double.init)
        )
        customer = figures
        self.lastOrderAt = lastOrderAt
    }

    /// The snapshot before an event's scoring as the event tells it (stage and tier only), for a customer this
    /// service has not evaluated before; nil when the event names no previous score.
    static func previous(of event: CustomerScoredEvent) -> ScoreSnapshot? {
        guard let stage = event.previousLifecycleStage, let tier = event.previousTier else { return nil }
        return ScoreSnapshot(scoredAt: .distantPast, stage: stage, tier: tier)
    }

    /// Figures read back from a row of ``AlertStore/scoreColumns`` (a `customer_scores` row or a stored evaluation).
    init(row: PostgresRow) throws {
        let scoredAt: Date = try row.decode(1)
        let stageText: String = try row.decode(2)
        let tierText: String = try row.decode(3)
        guard let stage = LifecycleStage(rawValue: stageText), let tier = ValueTier(rawValue: tierText) else {
            throw AlertsError(.unreadableRow, "unknown lifecycle stage \"\(stageText)\" or tier \"\(tierText)\"")
        }
        let pAlive = try row.decodeIfPresent(4, as: Double.self).map { min(max($0, 0), 1) }
        let predicted = try row.decodeIfPresent(5, as: Double.self)
        let orders: Int = try row.decode(6)
        let interval = try row.decodeIfPresent(7, as: Double.self).map { max($0, 0) }
        let silence = try row.decodeIfPresent(8, as: Double.self).map { max($0, 0) }
        let lastOrderAt = try row.decodeIfPresent(9, as: Date.self)
        snapshot = ScoreSnapshot(
            scoredAt: scoredAt,
            stage: stage,
            tier: tier,
            pAlive: pAlive,
            predictedValue: predicted,
            orderCount: orders,
            expectedIntervalDays: interval,
            daysSinceLastOrder: silence
        )
        customer = CustomerValueSnapshot(
            tier: tier,
            lifecycleStage: stage,
            clv: predicted.flatMap(Self.money),
            pAlive: pAlive.map { ($0 * 10_000).rounded() / 10_000 },
            lastOrderAt: lastOrderAt.map(Timestamp.init),
            ordersCount: max(orders, 0),
            expectedIntervalDays: interval.map { ($0 * 10).rounded() / 10 },
            daysSinceLastOrder: silence.map { Int($0.rounded(.down)) }
        )
        self.lastOrderAt = lastOrderAt
    }

    /// Whole cents, never negative; nil for an amount that is not a number.
    static func money(_ amount: Double) -> Money? {
        guard amount.isFinite else { return nil }
        let cents = (max(amount, 0) * 100).rounded() / 100
        return try? Money(Decimal(string: String(format: "%.2f", cents)) ?? 0)
    }
}
