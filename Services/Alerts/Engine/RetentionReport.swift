import CRMContract
import CRMPostgres
import CRMSupport
import Foundation

/// Whether retention alerts bring customers back: per group the alerts and their observed outcomes, the uplift of
/// the alerted group over the control group, and the customers the desks reported lost, by cause and tier.
///
/// `crm retention`, the console's retention page and the `crm_alerts_*` outcome gauges all read this one report.
public struct RetentionReport: Sendable, Hashable {
    /// One group's alerts.
    public struct Group: Sendable, Hashable {
        public var group: AlertGroup
        public var alerts: Int
        public var returned: Int
        public var notReturned: Int
        public var pending: Int
        /// Net value of the purchases that brought the group's customers back, base currency, 2 decimals.
        public var returnedValue: Decimal

        /// Alerts with a decided outcome.
        public var decided: Int { returned + notReturned }
        /// returned ÷ (returned + not returned); nil before any outcome is decided.
        public var returnRate: Double? { decided == 0 ? nil : Double(returned) / Double(decided) }
        /// Too few decided alerts to conclude anything (fewer than ``Uplift/minimumAlerts``).
        public var isTooSmall: Bool { decided < Uplift.minimumAlerts }
    }

    /// Lost customers of one churn cause (`unknown` when the desk gave none), by the tier they were alerted at.
    public struct LostCause: Sendable, Hashable {
        public var cause: String
        public var customers: Int
        public var byTier: [String: Int]
    }

    /// `alerted` then `control`; both always present.
    public var groups: [Group]
    /// nil until both groups have a decided outcome.
    public var uplift: Uplift?
    /// Lost customers (resolved with outcome `lost`) by cause, the commonest first.
    public var lost: [LostCause]
    /// Distinct customers reported lost.
    public var lostCustomers: Int
    /// The share of `service_failure` among lost customers whose cause is known; nil when none is.
    public var serviceFailureShare: Double?

    public func group(_ name: AlertGroup) -> Group? { groups.first { $0.group == name } }

    /// Why no conclusion can be drawn yet, in words; nil when the uplift is conclusive.
    public var caution: String? {
        let small = groups.filter(\.isTooSmall).map(\.group.rawValue)
        if !small.isEmpty {
            return "too few alerts to conclude: fewer than \(Uplift.minimumAlerts) with a decided outcome in the "
                + small.joined(separator: " and ") + " group" + (small.count > 1 ? "s" : "")
        }
        return nil
    }

    /// Reads the report from the database.
    public static func load(pool: PostgresPool) async throws -> RetentionReport {
        var groups = Dictionary(
            uniqueKeysWithValues: AlertGroup.allCases.map {
                ($0, Group(group: $0, alerts: 0, returned: 0, notReturned: 0, pending: 0, returnedValue: 0))
            }
        )
        for row in try await pool.query(
            """
            SELECT alert_group, count(*), count(*) FILTER (WHERE observed_outcome = 'returned'),
                   count(*) FILTER (WHERE observed_outcome = 'not_returned'),
                   count(*) FILTER (WHERE observed_outcome = 'pending'), round(coalesce(sum(returned_value), 0), 2)
            FROM retention_alerts GROUP BY 1
            """
        ) {
            guard let group = AlertGroup(rawValue: try row.decode(0)) else { continue }
            groups[group] = Group(
                group: group,
                alerts: try row.decode(1),
                returned: try row.decode(2),
                notReturned: try row.decode(3),
                pending: try row.decode(4),
                returnedValue: try row.decode(5)
            )
        }
        // A customer lost twice counts once, under the cause and tier of the latest resolution.
        var causes: [String: LostCause] = [:]
        var lostCustomers = 0
        for row in try await pool.query(
            """
            SELECT coalesce(churn_cause, 'unknown'), tier, count(*) FROM (
                SELECT DISTINCT ON (customer_id) customer_id, churn_cause, tier FROM retention_alerts
                WHERE outcome = 'lost' ORDER BY customer_id, resolved_at DESC, alert_id
            ) AS lost GROUP BY 1, 2
            """
        ) {
            let cause: String = try row.decode(0)
            let tier: String = try row.decode(1)
            let count: Int = try row.decode(2)
            causes[cause, default: LostCause(cause: cause, customers: 0, byTier: [:])].customers += count
            causes[cause]?.byTier[tier, default: 0] += count
            lostCustomers += count
        }
        let known = causes.values.filter { $0.cause != "unknown" }.reduce(0) { $0 + $1.customers }
        let alerted = groups[.alerted]!
        let control = groups[.control]!
        return RetentionReport(
            groups: [alerted, control],
            uplift: Uplift(
                alertedReturned: alerted.returned,
                alertedDecided: alerted.decided,
                controlReturned: control.returned,
                controlDecided: control.decided
            ),
            lost: causes.values.sorted { ($1.customers, $0.cause) < ($0.customers, $1.cause) },
            lostCustomers: lostCustomers,
            serviceFailureShare: known == 0
                ? nil : Double(causes[ChurnCause.serviceFailure.rawValue]?.customers ?? 0) / Double(known)
        )
    }
}

// MARK: - Output

extension RetentionReport {
    /// The report as one JSON object (`crm retention --json`):
    /// `{"groups": {"alerted": {...}, "control": {...}}, "uplift": {...} | null, "caution": "…" | null, "lost": {...}}`.
    /// Each group has `alerts`, `returned`, `not_returned`, `pending`, `return_rate` (null before an outcome),
    /// `returned_value` (decimal string) and `too_small`; `uplift` has `estimate`, `low`, `high` (95%) and
    /// `conclusive`; `lost` has `customers`, `service_failure_share` and `by_cause` (`{cause: {"customers": n,
    /// "by_tier": {tier: n}}}`).
    public var jsonObject: [String: Any] {
        func rounded(_ value: Double) -> Double { (value * 1_000_000).rounded() / 1_000_000 }
        var groupObjects: [String: Any] = [:]
        for group in groups {
            groupObjects[group.group.rawValue] = [
                "alerts": group.alerts, "returned": group.returned, "not_returned": group.notReturned,
                "pending": group.pending, "return_rate": group.returnRate.map(rounded) as Any? ?? NSNull(),
                "returned_value": Self.money(group.returnedValue), "too_small": group.isTooSmall,
            ]
        }
        let upliftObject: Any =
            uplift.map {
                [
                    "estimate": rounded($0.estimate), "low": rounded($0.low), "high": rounded($0.high),
                    "conclusive": $0.isConclusive,
                ] as [String: Any]
            } ?? NSNull()
        return [
            "groups": groupObjects,
            "uplift": upliftObject,
            "caution": caution as Any? ?? NSNull(),
            "lost": [
                "customers": lostCustomers,
                "service_failure_share": serviceFailureShare.map(rounded) as Any? ?? NSNull(),
                "by_cause": Dictionary(
                    uniqueKeysWithValues: lost.map {
                        ($0.cause, ["customers": $0.customers, "by_tier": $0.byTier] as [String: Any])
                    }
                ),
            ] as [String: Any],
        ]
    }

    /// A decimal amount with two fractional digits, as a decimal string (`"1234.50"`).
    public static func money(_ value: Decimal) -> String {
        var value = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 2, .plain)
        let formatter = NumberFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.minimumFractionDigits = 2
        formatter.maximumFractionDigits = 2
        formatter.usesGroupingSeparator = false
        return formatter.string(from: rounded as NSDecimalNumber) ?? "\(rounded)"
    }

    /// The report as aligned lines of text.
    public var text: String {
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }
        func points(_ value: Double) -> String { String(format: "%+.1f pp", value * 100) }
        let headers = ["group", "alerts", "returned", "not returned", "pending", "return rate", "returned value"]
        let rows = groups.map { group in
            [
                group.group.rawValue, String(group.alerts), String(group.returned), String(group.notReturned),
                String(group.pending), percent(group.returnRate), Self.money(group.returnedValue),
            ]
        }
        var lines = ["Retention alerts by group (observed outcomes from the orders)"] + Self.table(headers, rows)
        if let uplift {
            lines.append(
                "Uplift (alerted - control return rate): \(points(uplift.estimate)), 95% interval "
                    + "\(points(uplift.low)) to \(points(uplift.high))"
            )
        } else {
            lines.append("Uplift: not yet (each group needs an alert with a decided outcome)")
        }
        if let caution { lines.append("Caution: \(caution)") }
        lines.append("")
        lines.append("Lost customers (desk feedback): \(lostCustomers)")
        if !lost.isEmpty {
            let tiers = ValueTier.allCases.sorted(by: >).map(\.rawValue)
            lines += Self.table(
                ["cause", "customers"] + tiers,
                lost.map { cause in
                    [cause.cause, String(cause.customers)] + tiers.map { String(cause.byTier[$0] ?? 0) }
                }
            )
            lines.append("Share of service_failure among lost customers with a cause: \(percent(serviceFailureShare))")
        }
        return lines.joined(separator: "\n")
    }

    static func table(_ headers: [String], _ rows: [[String]]) -> [String] {
        let widths = headers.indices.map { column in
            ([headers[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            "  "
                + cells.enumerated().map { index, cell in
                    index == 0
                        ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                        : cell.leftPadded(to: widths[index], with: " ")
                }.joined(separator: "  ")
        }
        return [line(headers)] + rows.map(line)
    }
}
