import CRMAMQP
import CRMContract
import CRMPostgres
import CRMSupport
import Foundation

/// Handles a batch of `alerts.events`: `customer.scored.v1` and `complaint.signal.v1`, in one transaction.
///
/// Of several scorings of one customer in a batch the newest counts; every complaint is kept. An event that
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
        for message in batch {
            do throws(MessageRejection) {
                switch try Self.schema(of: message.body, routingKey: message.routingKey) {
                case CustomerScoredEvent.schema:
                    let event = try CustomerScoredEvent.decode(body: message.body)
                    let figures = try ScoredFigures(event: event)
                    let id = event.customerID.rawValue
                    if let known = events[id], known.figures.scoredAt >= figures.scoredAt { break }
                    events[id] = (figures, ScoredFigures.previous(of: event))
                default:
                    complaints.append(try ComplaintSignalEvent.decode(body: message.body))
                }
                dispositions.append(.processed)
            } catch {
                dispositions.append(.deadLetter(error))
            }
        }
        guard !events.isEmpty || !complaints.isEmpty else { return dispositions }
        let customers = Array(events.keys) + complaints.map(\.customerID.rawValue)
        let inputs = events
        let signals = complaints
        let evaluator = evaluator
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
        return dispositions
    }

    /// The `schema` of a body, checked as every message is (size, UTF-8, JSON); an unknown one is a rejection, and
    /// so is one its routing key does not carry: the key is what the broker checked the publisher's right to, so a
    /// `customer.scored` key carries scores and a `complaint.signal` key complaint signals, nothing else.
    static func schema(of body: Data, routingKey: String) throws(MessageRejection) -> String {
        let schema = try MessageBody.peekSchema(body)
        guard schema == CustomerScoredEvent.schema || schema == ComplaintSignalEvent.schema else {
            throw MessageRejection(.unknownSchema, field: "schema", "unknown \"\(schema)\"")
        }
        let expected: String? =
            switch routingKey {
            case Topology.EventKey.customerScored: CustomerScoredEvent.schema
            case Topology.EventKey.complaintSignal: ComplaintSignalEvent.schema
            default: nil
            }
        if let expected, schema != expected {
            throw MessageRejection(.unknownSchema, field: "schema", "\"\(schema)\" under the routing key \(routingKey)")
        }
        return schema
    }
}
