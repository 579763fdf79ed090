import CRMAMQP
import CRMContract
import CRMPostgres
import CRMSupport
import Foundation

/// Handles a batch of `alerts.events`: `customer.scored.v1`, `complaint.signal.v1` and `order.accepted` (v1 and v2),
/// in one transaction.
///
/// Of several scorings of one customer in a batch the newest counts; every complaint is kept. Accepted orders judge
/// again the observed outcome of their customers' alerts (``OutcomeTracker``), as of the newest order named. An event that
/// cannot be read (bad JSON, unknown schema, an unknown stage or tier) is dead-lettered with its reason and the
/// rest of the batch goes on. The acknowledgement follows the commit; a redelivered batch changes nothing, since
/// figures no newer than the stored ones and complaints already stored are no change.
public struct AlertEventsHandler: Sendable {
    private let evaluator: AlertEvaluator
    private let pool: PostgresPool
    private let metrics = AlertsMetrics()

    init(evaluator: AlertEvaluator, pool: PostgresPool) {
        self.evaluator = evaluator
        self.pool = pool
    }

    /// One disposition per message, after the batch's effects are committed.
    public func handle(_ batch: [InboundMessage]) async throws -> [MessageDisposition] {
        var dispositions: [MessageDisposition] = []
        var events: [String: AlertEvaluator.EventInput] = [:]
        var complaints: [ComplaintSignalEvent] = []
        var orders: [String: Date] = [:]
        for message in batch {
            do throws(MessageRejection) {
                switch try Self.schema(of: message.body, routingKey: message.routingKey) {
                case CustomerScoredEvent.schema:
                    let event = try CustomerScoredEvent.decode(body: message.body)
                    let figures = try ScoredFigures(event: event)
                    let id = event.customerID.rawValue
                    if let known = events[id], known.figures.scoredAt >= figures.scoredAt { break }
                    events[id] = (figures, ScoredFigures.previous(of: event))
                case OrderAcceptedEvents.schema, OrderAcceptedEvent.schema:
                    for entry in try Self.orderEntries(message.body) {
                        let id = entry.customerID.rawValue
                        orders[id] = max(orders[id] ?? .distantPast, entry.occurredAt.date)
                    }
                default:
                    complaints.append(try ComplaintSignalEvent.decode(body: message.body))
                }
                dispositions.append(.processed)
            } catch {
                dispositions.append(.deadLetter(error))
            }
        }
        let customers = Array(events.keys) + complaints.map(\.customerID.rawValue)
        let inputs = events
        let signals = complaints
        let evaluator = evaluator
        if !customers.isEmpty {
            let tally = try await pool.transaction { connection in
                try evaluator.evaluate(
                    customers: customers,
                    events: inputs,
                    complaints: signals,
                    now: Date(),
                    on: connection
                )
            }
            metrics.record(tally, source: complaints.isEmpty ? "event" : "complaint")
        }
        // Outcomes after the alerts: the alerts' outbox rows are committed (and on their way) before the batch's
        // orders are judged, so outcome tracking never holds an alert back. A crash between the two redelivers the
        // batch: its scores are no change the second time, and judging again is idempotent.
        if !orders.isEmpty {
            let ordered = orders
            try await pool.transaction { connection in
                _ = try evaluator.outcomes.ordersArrived(ordered, on: connection)
            }
        }
        return dispositions
    }

    /// The `schema` of a body, checked as every message is (size, UTF-8, JSON); an unknown one is a rejection, and
    /// so is one its routing key does not carry: the key is what the broker checked the publisher's right to, so a
    /// `customer.scored` key carries scores and a `complaint.signal` key complaint signals, nothing else.
    static func schema(of body: Data, routingKey: String) throws(MessageRejection) -> String {
        let schema = try MessageBody.peekSchema(body)
        guard Self.schemas.contains(schema) else {
            throw MessageRejection(.unknownSchema, field: "schema", "unknown \"\(schema)\"")
        }
        let expected: Set<String>? =
            switch routingKey {
            case Topology.EventKey.customerScored: [CustomerScoredEvent.schema]
            case Topology.EventKey.complaintSignal: [ComplaintSignalEvent.schema]
            case Topology.EventKey.orderAccepted: [OrderAcceptedEvents.schema, OrderAcceptedEvent.schema]
            default: nil
            }
        if let expected, !expected.contains(schema) {
            throw MessageRejection(.unknownSchema, field: "schema", "\"\(schema)\" under the routing key \(routingKey)")
        }
        return schema
    }

    /// The schemas `alerts.events` carries.
    static let schemas: Set<String> = [
        CustomerScoredEvent.schema, ComplaintSignalEvent.schema, OrderAcceptedEvents.schema, OrderAcceptedEvent.schema,
    ]

    /// The customers and newest order times of an `order.accepted` body of either version.
    static func orderEntries(_ body: Data) throws(MessageRejection) -> [OrderAcceptedEvents.Customer] {
        if try MessageBody.peekSchema(body) == OrderAcceptedEvent.schema {
            return [try OrderAcceptedEvent.decode(body: body).entry]
        }
        return try OrderAcceptedEvents.decode(body: body).customers
    }
}
