import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation

/// Builds the `customer.scored` events of notable scores.
enum ScoredEvents {
    /// The event of one score; nil when the score has no model figures to report.
    static func message(for score: CustomerScore, previous: PreviousScore?) throws -> OutboundMessage? {
        guard let pAlive = score.pAlive else { return nil }
        // Saturated at the largest amount a message can carry: one customer's absurd figure must not fail the batch.
        let predicted = min(max(score.clv.predicted ?? 0, 0), 999_999_999_999_999)
        let snapshot = CustomerValueSnapshot(
            tier: score.tier,
            lifecycleStage: score.stage,
            clv: (try? Money(Decimal(string: String(format: "%.2f", predicted)) ?? 0)) ?? Money.maximum,
            pAlive: (pAlive * 10_000).rounded() / 10_000,
            lastOrderAt: score.activity.lastPurchaseAt.map(Timestamp.init),
            ordersCount: score.activity.orderCount,
            expectedIntervalDays: score.activity.expectedIntervalDays.map { ($0 * 10).rounded() / 10 },
            daysSinceLastOrder: score.recencyDays
        )
        let event = CustomerScoredEvent(
            customerID: try Identifier(score.customerID),
            previousLifecycleStage: previous?.stage,
            previousTier: previous?.tier,
            customer: snapshot,
            expectedPurchases90d: score.expectedPurchases90d.map { max(0, ($0 * 10_000).rounded() / 10_000) },
            scoredAt: Timestamp(score.scoredAt)
        )
        return OutboundMessage(
            exchange: Topology.eventsExchange,
            routingKey: Topology.EventKey.customerScored,
            body: try event.encodedBody()
        )
    }

    /// Enqueues messages in the outbox in chunks, in the caller's transaction.
    static func enqueue(
        _ messages: [OutboundMessage],
        into outbox: Outbox,
        on connection: isolated PostgresConnection
    ) throws {
        var start = 0
        while start < messages.count {
            let end = min(start + 5_000, messages.count)
            try outbox.enqueue(Array(messages[start..<end]), on: connection)
            start = end
        }
    }
}
