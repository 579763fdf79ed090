import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation
import Metrics

/// Validates a batch of `order.v1` messages and stores the valid ones exactly once, in one transaction.
///
/// - The same `order_id` with the same content (by canonical form) is a no-op; with other content
///   it is dead-lettered as a conflict and the first version stands.
/// - Orders in another currency are converted with the operators' rate table; no rate, no order.
/// - A refund must name a purchase of the same customer, and the purchase's refunds together may not exceed it. When
///   that purchase has not arrived yet the refund is stored `held` and counts from the moment the purchase arrives,
///   or is dead-lettered then when it cannot apply.
/// - An amount or cost larger than ``maximumAmount`` in the base currency is dead-lettered, and so is an order dated
///   before 1900 or more than a day after it was received.
/// - An `order.accepted` event naming every customer touched (with its new orders) goes into the outbox in the same
///   transaction: one message per batch (`order.accepted.v2`).
public struct OrderIntakeHandler: Sendable {
    /// The currency every value is converted into (`CRM_BASE_CURRENCY`, default USD).
    public let baseCurrency: String
    /// The largest amount or cost an order may have, in the base currency (`CRM_INTAKE_MAXIMUM_AMOUNT`).
    public let maximumAmount: Decimal
    /// The default of ``maximumAmount``: a billion in the base currency.
    public static let defaultMaximumAmount = 1_000_000_000
    private let pool: PostgresPool
    private let outbox: Outbox
    private let accepted = Counter(label: "crm_intake_orders_accepted_total")
    private let duplicates = Counter(label: "crm_intake_duplicates_total")
    private let conflicts = Counter(label: "crm_intake_conflicts_total")
    private let refusedHeld = Counter(label: "crm_intake_held_refunds_refused_total")
    private let batchSize = Recorder(label: "crm_intake_batch_size")
    private let batchLatency = Timer(label: "crm_intake_batch_seconds")

    /// A handler storing orders through `pool` and writing their events into `outbox`.
    public init(
        pool: PostgresPool,
        outbox: Outbox,
        baseCurrency: String,
        maximumAmount: Decimal = Decimal(defaultMaximumAmount)
    ) {
        self.pool = pool
        self.outbox = outbox
        self.baseCurrency = baseCurrency
        self.maximumAmount = maximumAmount
    }

    /// A message decoded and validated with its content fingerprint, or the reason it is a dead letter.
    public struct PreparedOrder: Sendable {
        var decoded: Result<(order: OrderMessage, contentHash: String), MessageRejection>
    }

    /// How a ``QueueConsumer`` runs this handler: messages are decoded as they arrive, while a batch commits.
    public var staged: QueueConsumer.StagedHandler<PreparedOrder> {
        QueueConsumer.StagedHandler(prepare: prepare, commit: commit)
    }

    /// One disposition per message, after the batch's effects are committed.
    public func handle(_ batch: [InboundMessage]) async throws -> [MessageDisposition] {
        try await commit(batch, batch.map(prepare))
    }

    /// Decodes and validates a message and fingerprints its canonical form; touches nothing.
    @Sendable public func prepare(_ message: InboundMessage) -> PreparedOrder {
        PreparedOrder(
            decoded: Result { () throws(MessageRejection) in
                let order = try OrderMessage.decodeChecked(body: message.body)
                // An order dated ahead of its receipt would be stored and never counted: refused.
                if order.occurredAt.isInTheFuture(of: Date()) { throw Timestamp.inTheFuture(field: "occurred_at") }
                return (order, order.contentHash)
            }
        )
    }

    /// Stores the batch's valid orders in one transaction; one disposition per message, after the commit.
    @Sendable public func commit(
        _ batch: [InboundMessage],
        _ prepared: [PreparedOrder]
    ) async throws -> [MessageDisposition] {
        let start = ContinuousClock.now
        var dispositions = [MessageDisposition](repeating: .processed, count: batch.count)
        var candidates: [OrderBatchWriter.Candidate] = []
        candidates.reserveCapacity(batch.count)
        for (index, preparation) in prepared.enumerated() {
            switch preparation.decoded {
            case .success(let decoded):
                candidates.append(
                    .init(
                        index: index,
                        order: decoded.order,
                        contentHash: decoded.contentHash,
                        body: decoded.order.kind == .refund ? String(decoding: batch[index].body, as: UTF8.self) : nil
                    )
                )
            case .failure(let rejection): dispositions[index] = .deadLetter(rejection)
            }
        }
        let plan = candidates
        var traced = OrderBatchWriter(baseCurrency: baseCurrency, maximumAmount: maximumAmount, outbox: outbox)
        traced.traceIDs = batch.map { MessageTracing.trace(of: $0)?.traceID }
        let writer = traced
        let outcome = try await pool.transaction { connection in
            try writer.write(plan, on: connection)
        }
        for (index, rejection) in outcome.rejected {
            dispositions[index] = .deadLetter(rejection)
        }
        accepted.increment(by: outcome.inserted)
        duplicates.increment(by: outcome.duplicates)
        conflicts.increment(by: outcome.conflicts)
        refusedHeld.increment(by: outcome.refusedHeldRefunds)
        batchSize.record(batch.count)
        batchLatency.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
        return dispositions
    }
}
