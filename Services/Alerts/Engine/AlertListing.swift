import CRMContract
import CRMPostgres
import CRMSupport
import Foundation

/// The alerts as `crm alerts` lists them: one object per alert with its group, desk status and feedback, churn cause
/// and observed outcome, oldest first, read a page at a time (keyset on raised time and id).
public struct AlertListing: Sendable {
    /// One alert.
    public struct Line: Sendable, Hashable {
        public var alertID: UUID
        public var customerID: String
        public var group: AlertGroup
        public var priority: String
        public var reasons: [String]
        public var valueAtRisk: Decimal
        public var raisedAt: Date
        public var asOf: Date
        public var status: String
        public var feedbackOutcome: String?
        public var churnCause: String?
        public var observedOutcome: ObservedOutcome
        public var returnedValue: Decimal

        /// The line as `crm alerts --json` writes it: `alert_id`, `customer_id`, `group`, `priority`, `reasons`,
        /// `value_at_risk`, `raised_at`, `as_of`, `status`, `feedback_outcome`, `churn_cause`, `observed_outcome`,
        /// `returned_value` (amounts as decimal strings, times RFC 3339, absent values null).
        public var jsonObject: [String: Any] {
            [
                "alert_id": alertID.uuidString.lowercased(), "customer_id": customerID, "group": group.rawValue,
                "priority": priority, "reasons": reasons, "value_at_risk": RetentionReport.money(valueAtRisk),
                "raised_at": Timestamp(raisedAt).rfc3339, "as_of": Timestamp(asOf).rfc3339, "status": status,
                "feedback_outcome": feedbackOutcome as Any? ?? NSNull(), "churn_cause": churnCause as Any? ?? NSNull(),
                "observed_outcome": observedOutcome.rawValue,
                "returned_value": RetentionReport.money(returnedValue),
            ]
        }
    }

    /// Only alerts with this desk status (`open`, `acknowledged`, `resolved`); nil for all.
    public var status: String?
    /// Only alerts of this group; nil for both.
    public var group: AlertGroup?

    public init(status: String? = nil, group: AlertGroup? = nil) {
        self.status = status
        self.group = group
    }

    /// The desk statuses `--status` takes.
    public static let statuses = ["open", "acknowledged", "resolved"]

    /// Calls `body` with each page of up to `pageSize` lines, oldest first, so the whole list never sits in memory.
    public func forEachPage(
        pool: PostgresPool,
        pageSize: Int = 1_000,
        _ body: ([Line]) throws -> Void
    ) async throws {
        var after: (Date, UUID)? = nil
        while true {
            let rows = try await pool.query(
                """
                SELECT alert_id, customer_id, alert_group, priority, array_to_string(reasons, ','), value_at_risk, raised_at, as_of, status,
                       outcome, churn_cause, observed_outcome, returned_value
                FROM retention_alerts
                WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR alert_group = $2)
                  AND ($3::timestamptz IS NULL OR (raised_at, alert_id) > ($3, $4::uuid))
                ORDER BY raised_at, alert_id LIMIT $5
                """,
                [status, group?.rawValue, after?.0, after?.1, pageSize]
            )
            let lines = try rows.map { row in
                Line(
                    alertID: try row.decode(0),
                    customerID: try row.decode(1),
                    group: AlertGroup(rawValue: try row.decode(2)) ?? .alerted,
                    priority: try row.decode(3),
                    reasons: (try row.decode(4, as: String.self)).split(separator: ",").map(String.init),
                    valueAtRisk: try row.decode(5),
                    raisedAt: try row.decode(6),
                    asOf: try row.decode(7),
                    status: try row.decode(8),
                    feedbackOutcome: try row.decodeIfPresent(9),
                    churnCause: try row.decodeIfPresent(10),
                    observedOutcome: ObservedOutcome(rawValue: try row.decode(11)) ?? .pending,
                    returnedValue: try row.decode(12)
                )
            }
            guard let last = lines.last else { return }
            try body(lines)
            after = (last.raisedAt, last.alertID)
            if lines.count < pageSize { return }
        }
    }
}
