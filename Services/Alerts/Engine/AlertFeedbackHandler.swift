import CRMAMQP
import CRMContract
import CRMPostgres
import CRMSupport
import Foundation

/// Handles a batch of `alerts.feedback` (`alert-feedback.v1` from the desks) in one transaction.
///
/// - Every feedback message is kept in `alert_feedback`; the same alert, status and time again is a redelivery
///   and changes nothing.
/// - An alert moves forward only: open → acknowledged → resolved. A late `acknowledged` never reopens a resolved
///   alert, and the first resolution's outcome stands.
/// - Resolving closes the alert's reasons, which starts their cooldown at the resolution time: the desk's `at`, but
///   never before the alert was raised (back-dated feedback skips no cooldown) nor after now; an `at` more than a
///   day ahead is dead-lettered.
/// - Feedback naming no alert this service raised is dead-lettered with the reason `alert_id: no such alert`, and
///   feedback naming a control-group alert (never published, so no desk saw it) with `alert_id: a control-group
///   alert, never published`.
/// - `churn_type` and `churn_cause` are kept with the feedback; those of the resolving feedback stay on the alert
///   (`crm retention` counts lost customers by cause). An unknown word in either is dead-lettered naming the field.
public struct AlertFeedbackHandler: Sendable {
    private let pool: PostgresPool
    private let metrics = AlertsMetrics()

    /// A handler writing to `pool`.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// One disposition per message, after the batch's effects are committed.
    public func handle(_ batch: [InboundMessage]) async throws -> [MessageDisposition] {
        var dispositions = [MessageDisposition](repeating: .processed, count: batch.count)
        var valid: [(index: Int, alertID: UUID, feedback: AlertFeedback)] = []
        let received = Date()
        for (index, message) in batch.enumerated() {
            do throws(MessageRejection) {
                let feedback = try AlertFeedback.decode(body: message.body)
                if feedback.at.isInTheFuture(of: received) { throw Timestamp.inTheFuture(field: "at") }
                guard let id = UUID(uuidString: feedback.alertID.rawValue) else {
                    throw Self.noSuchAlert
                }
                valid.append((index, id, feedback))
            } catch {
                dispositions[index] = .deadLetter(error)
            }
        }
        guard !valid.isEmpty else { return dispositions }
        let items = valid
        let result = try await pool.transaction { connection in
            try Self.apply(items.map { ($0.alertID, $0.feedback) }, on: connection)
        }
        for (position, item) in valid.enumerated() {
            if result.unknown.contains(position) {
                dispositions[item.index] = .deadLetter(Self.noSuchAlert)
            } else if result.control.contains(position) {
                dispositions[item.index] = .deadLetter(Self.controlAlert)
            }
        }
        for status in result.stored { metrics.feedback(status: status) }
        return dispositions
    }

    static let noSuchAlert = MessageRejection(.unknownReference, field: "alert_id", "no such alert")
    static let controlAlert = MessageRejection(
        .unknownReference,
        field: "alert_id",
        "a control-group alert, never published"
    )

    /// Applies feedback in order; returns the positions that name no alert, those that name a control alert, and
    /// the statuses newly stored.
    static func apply(
        _ items: [(alertID: UUID, feedback: AlertFeedback)],
        on connection: isolated PostgresConnection
    ) throws -> (unknown: Set<Int>, control: Set<Int>, stored: [String]) {
        var known: [UUID: AlertGroup] = [:]
        for row in try connection.query(
            """
            SELECT alert_id, alert_group FROM retention_alerts WHERE alert_id = ANY($1::uuid[])
            ORDER BY alert_id FOR UPDATE
            """,
            [items.map(\.alertID)]
        ) {
            known[try row.decode(0, as: UUID.self)] = AlertGroup(rawValue: try row.decode(1)) ?? .alerted
        }
        var unknown = Set<Int>()
        var control = Set<Int>()
        var stored: [String] = []
        for (position, item) in items.enumerated() {
            guard let group = known[item.alertID] else {
                unknown.insert(position)
                continue
            }
            guard group == .alerted else {
                control.insert(position)
                continue
            }
            let feedback = item.feedback
            let inserted = try connection.query(
                """
                INSERT INTO alert_feedback (alert_id, status, outcome, at, agent, note, churn_type, churn_cause)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (alert_id, status, at) DO NOTHING RETURNING id
                """,
                [
                    item.alertID, feedback.status.rawValue, feedback.outcome?.rawValue, feedback.at.date,
                    feedback.agent, feedback.note, feedback.churnType?.rawValue, feedback.churnCause?.rawValue,
                ]
            )
            guard !inserted.isEmpty else { continue }
            stored.append(feedback.status.rawValue)
            switch feedback.status {
            case .acknowledged:
                try connection.execute(
                    """
                    UPDATE retention_alerts SET status = 'acknowledged', acknowledged_at = greatest(least($2, now()), raised_at),
                        agent = coalesce($3, agent)
                    WHERE alert_id = $1 AND status = 'open'
                    """,
                    [item.alertID, feedback.at.date, feedback.agent]
                )
            case .resolved:
                let resolved = try connection.execute(
                    """
                    UPDATE retention_alerts SET status = 'resolved', resolved_at = greatest(least($2, now()), raised_at), outcome = $3,
                        agent = coalesce($4, agent), churn_type = $5, churn_cause = $6
                    WHERE alert_id = $1 AND status <> 'resolved'
                    """,
                    [
                        item.alertID, feedback.at.date, feedback.outcome?.rawValue, feedback.agent,
                        feedback.churnType?.rawValue, feedback.churnCause?.rawValue,
                    ]
                )
                if resolved > 0 {
                    try connection.execute(
                        """
                        UPDATE retention_alert_reasons r SET open = false, closed_at = a.resolved_at
                        FROM retention_alerts a WHERE a.alert_id = $1 AND r.alert_id = $1 AND r.open
                        """,
                        [item.alertID]
                    )
                }
            }
        }
        return (unknown, control, stored)
    }
}
