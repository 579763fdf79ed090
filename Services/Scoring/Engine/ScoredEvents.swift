import Foundation
import Shared

/// Builds the `customer.scored` events of notable scores.
enum ScoredEvents {
    /// The outbox source the scoring service's relay publishes.
    static let outboxSource = "scoring"

    /// The event of one score; nil when the score has no model figures to report.
    static func message(for score: CustomerScore, previous: PreviousScore?) throws -> OutboundMessage? {
        guard let pAlive = score.pAlive else { return nil }
        let predicted = max(score.clv.predicted ?? 0, 0)
        let snapshot = CustomerValueSnapshot(
            tier: score.tier.rawValue, lifecycleStage: score.stage.rawValue,
            clv: try Money(Decimal(string: String(format: "%.2f", predicted)) ?? 0),
            pAlive: (pAlive * 10_000).rounded() / 10_000,
            lastOrderAt: score.activity.lastPurchaseAt.map(Timestamp.init),
            ordersCount: score.activity.orderCount,
            expectedIntervalDays: score.activity.expectedIntervalDays.map { ($0 * 10).rounded() / 10 },
            daysSinceLastOrder: score.recencyDays)
        let event = CustomerScoredEvent(
            customerID: try Identifier(score.customerID), previousLifecycleStage: previous?.stage.rawValue,
            previousTier: previous?.tier.rawValue, customer: snapshot,
            expectedPurchases90d: score.expectedPurchases90d.map { max(0, ($0 * 10_000).rounded() / 10_000) },
            scoredAt: Timestamp(score.scoredAt))
        return OutboundMessage(
            exchange: Topology.eventsExchange, routingKey: Topology.EventKey.customerScored,
            body: try event.encodedBody())
    }

    /// Enqueues messages in the outbox in chunks, in the caller's transaction.
    static func enqueue(_ messages: [OutboundMessage], on connection: isolated PostgresConnection) throws {
        var start = 0
        while start < messages.count {
            let end = min(start + 5_000, messages.count)
            try Outbox.enqueue(Array(messages[start..<end]), source: outboxSource, on: connection)
            start = end
        }
    }
}
