import CRMAMQP
import CRMContract
import CRMSupport
import Foundation
import Scoring
import TestSupport
import Testing

@testable import Alerts

private typealias H = AlertsHarness

/// The control group, flags, churn causes and outcomes updated by arriving orders, through the service's wiring.
@Suite("Alerts retention")
struct AlertsRetentionTests {
    /// Takes every dead letter of `queue` with its reason.
    static func deadLetters(_ environment: TestEnvironment, _ queue: String) async throws -> [String] {
        let consumer = AMQPConsumer(settings: environment.amqp, queue: queue, prefetch: 100, logger: TestServers.logger)
        var reasons: [String] = []
        while true {
            let batch = try await consumer.nextBatch(maxCount: 100, wait: .milliseconds(300), linger: .milliseconds(20))
            guard let last = batch.last else { break }
            reasons += batch.map { $0.headers[Topology.errorHeader]?.stringValue ?? "" }
            try await consumer.acknowledge(upTo: last)
        }
        await consumer.close()
        return reasons
    }

    /// Scores that decline now, for `count` customers named `prefix-i`.
    static func declining(
        _ prefix: String,
        _ count: Int,
        now: Date
    ) -> (healthy: [AlertsHarness.Score], declined: [AlertsHarness.Score]) {
        let healthy = (0..<count).map { index in
            H.Score(customerID: "\(prefix)-\(index)", pAlive: 0.9, lastOrderAt: now - 5 * 86_400, scoredAt: now - 7_200)
        }
        let declined = healthy.map { score in
            var score = score
            score.stage = .decline
            score.scoredAt = now - 3_600
            return score
        }
        return (healthy, declined)
    }

    @Test func controlAlertsAreStoredNeverPublishedStayInTheirGroupAndFlaggedCustomersGetNothing() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = H.publisher(environment)
            let now = Date()
            let customers = 240
            let share = 0.3
            let (healthy, declined) = Self.declining("G", customers, now: now)
            // One flagged customer per flag, each of them in the alerted group by its hash.
            let flagged = Dictionary(
                uniqueKeysWithValues: zip(
                    CustomerFlag.allCases,
                    healthy.map(\.customerID).filter { ControlGroup(share: share).group(of: $0) == .alerted }
                )
            )
            for (flag, customer) in flagged {
                try await environment.pool.execute(
                    "INSERT INTO customer_flags (customer_id, flag, note) VALUES ($1, $2, 'test')",
                    [customer, flag.rawValue]
                )
            }
            try await H.store(healthy, environment)
            let settings = H.settings(sweepInterval: .milliseconds(50), controlShare: share)
            let received = try await H.whileRunning(environment, settings: settings, replicas: 2) {
                #expect(
                    try await eventually {
                        try await H.count(environment, "SELECT count(*) FROM alert_customer_state") == customers
                    }
                )
                try await H.store(declined, environment)
                try await publisher.publish((declined + declined).shuffled().map { try H.event($0) })
                #expect(try await H.evaluated(declined, environment))
                #expect(try await eventually { try await H.settled(environment, publisher) })
                // A full rescoring later finds everyone silent: a second alert each, found by the sweeps.
                let silent = declined.map { score in
                    var score = score
                    score.scoredAt = now
                    score.lastOrderAt = now - 60 * 86_400
                    return score
                }
                try await H.store(silent, environment)
                #expect(try await H.evaluated(silent, environment))
                #expect(try await eventually { try await H.settled(environment, publisher) })
                return try await H.drainAlerts(environment)
            }
            let rows = try await environment.pool.query(
                "SELECT alert_id::text, customer_id, alert_group, delivery, queued_at IS NULL FROM retention_alerts"
            )
            var groups: [String: Set<String>] = [:]
            var control = Set<String>()
            var alerted = Set<String>()
            for row in rows {
                let id: String = try row.decode(0)
                let customer: String = try row.decode(1)
                let group: String = try row.decode(2)
                groups[customer, default: []].insert(group)
                #expect(group == ControlGroup(share: share).group(of: customer).rawValue)
                if group == "control" {
                    let delivery = try row.decode(3, as: String.self)
                    let unqueued = try row.decode(4, as: Bool.self)
                    #expect(delivery == "control" && unqueued)
                    control.insert(id)
                } else {
                    alerted.insert(id)
                }
            }
            // Two alerts for every customer but the flagged ones, who got none; each customer kept its group.
            #expect(rows.count == 2 * (customers - flagged.count))
            #expect(Set(flagged.values).isDisjoint(with: groups.keys))
            #expect(groups.values.allSatisfy { $0.count == 1 })
            let controlCustomers = groups.values.filter { $0 == ["control"] }.count
            #expect(controlCustomers > 40 && controlCustomers < 110, "\(controlCustomers) of \(groups.count)")
            // Only the alerted group reached the desks.
            let delivered = Set(received.map(\.alert.alertID.rawValue))
            #expect(received.count == alerted.count && delivered == alerted)
            #expect(control.isDisjoint(with: delivered))
            // Control alerts take no room in the daily counts.
            #expect(
                try await H.count(environment, "SELECT coalesce(sum(queued), 0)::int FROM alert_daily_counts")
                    == alerted.count
            )
            // Nor in the customer object's open alerts: no desk holds them.
            for (customer, group) in groups.prefix(20) {
                let json = try #require(try await CustomerView.json(customerID: customer, pool: environment.pool))
                let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
                let open = try await H.count(
                    environment,
                    "SELECT count(*) FROM retention_alerts WHERE customer_id = $1 AND status <> 'resolved'",
                    [customer]
                )
                #expect(object?["open_alerts"] as? Int == (group == ["control"] ? 0 : open), "\(customer)")
            }
            await publisher.close()
        }
    }

    @Test func feedbackWithEachChurnCauseIsKeptAndReportedAndUnknownCausesAreDeadLettered() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = H.publisher(environment)
            let now = Date()
            let (_, declined) = Self.declining("F", 60, now: now)
            let share = 0.25
            try await H.store(declined, environment)
            let settings = H.settings(controlShare: share)
            try await H.whileRunning(environment, settings: settings) {
                try await publisher.publish(declined.map { try H.event($0) })
                #expect(try await H.evaluated(declined, environment))
                let rows = try await environment.pool.query(
                    "SELECT alert_id::text, customer_id, alert_group, tier FROM retention_alerts ORDER BY customer_id"
                )
                let alerted = try rows.filter { try $0.decode(2, as: String.self) == "alerted" }.map {
                    (id: try $0.decode(0, as: String.self), customer: try $0.decode(1, as: String.self))
                }
                let controlAlert = try #require(
                    try rows.first { try $0.decode(2, as: String.self) == "control" }?.decode(0, as: String.self)
                )
                #expect(alerted.count >= 12)
                // Two lost customers per cause (service failure three times), one retained.
                var messages: [OutboundMessage] = []
                var expected: [String: Int] = [:]
                let causes = ChurnCause.allCases + ChurnCause.allCases + [.serviceFailure]
                for (alert, cause) in zip(alerted, causes) {
                    messages.append(try H.feedback(alert.id, .resolved, outcome: .lost, churnCause: cause))
                    expected[cause.rawValue, default: 0] += 1
                }
                messages.append(try H.feedback(alerted[causes.count].id, .resolved, outcome: .retained))
                // An unknown cause, an unknown type, and feedback on a control alert no desk ever saw.
                let badCause = Data(
                    #"{"schema":"alert-feedback.v1","alert_id":"\#(alerted[causes.count + 1].id)","status":"resolved","outcome":"lost","churn_cause":"price","at":"\#(Timestamp(now).rfc3339)"}"#
                        .utf8
                )
                let badType = Data(
                    #"{"schema":"alert-feedback.v1","alert_id":"\#(alerted[causes.count + 1].id)","status":"resolved","outcome":"lost","churn_type":"angry","at":"\#(Timestamp(now).rfc3339)"}"#
                        .utf8
                )
                for body in [badCause, badType] {
                    messages.append(
                        OutboundMessage(exchange: Topology.alertsExchange, routingKey: "alert.v1.feedback", body: body)
                    )
                }
                messages.append(try H.feedback(controlAlert, .resolved, outcome: .lost, churnCause: .competitive))
                try await publisher.publish(messages)
                #expect(try await eventually { try await publisher.inspectQueue("alerts.feedback.dead").messages == 3 })
                #expect(try await eventually { try await H.settled(environment, publisher) })

                let reasons = try await Self.deadLetters(environment, "alerts.feedback.dead").sorted()
                #expect(reasons.count == 3)
                #expect(reasons.contains { $0.contains("churn_cause") && $0.contains("price") })
                #expect(reasons.contains { $0.contains("churn_type") && $0.contains("angry") })
                #expect(reasons.contains { $0.contains("alert_id") && $0.contains("control-group alert") })

                let stored = try await environment.pool.query(
                    """
                    SELECT a.churn_cause, a.churn_type, f.churn_cause FROM retention_alerts a
                    JOIN alert_feedback f USING (alert_id) WHERE a.outcome = 'lost'
                    """
                )
                #expect(stored.count == causes.count)
                for row in stored {
                    let cause = try row.decodeIfPresent(0, as: String.self)
                    let fed = try row.decodeIfPresent(2, as: String.self)
                    #expect(cause != nil && cause == fed)
                    let type = try row.decodeIfPresent(1, as: String.self)
                    #expect(type == (cause == "natural" ? "passive" : "active"))
                }
                #expect(
                    try await H.count(
                        environment,
                        "SELECT count(*) FROM retention_alerts WHERE alert_group = 'control' AND outcome IS NOT NULL"
                    ) == 0
                )

                let report = try await RetentionReport.load(pool: environment.pool)
                #expect(report.lostCustomers == causes.count)
                #expect(Dictionary(uniqueKeysWithValues: report.lost.map { ($0.cause, $0.customers) }) == expected)
                #expect(report.lost.first?.cause == "service_failure")
                #expect(report.lost.allSatisfy { $0.byTier == ["gold": $0.customers] })
                #expect(report.serviceFailureShare == 3.0 / 11.0)
                let json = report.jsonObject["lost"] as? [String: Any]
                #expect(json?["customers"] as? Int == 11)
            }
            await publisher.close()
        }
    }

    /// Outcomes judged from arriving orders: on time, refunded, before the alert, and reported late.
    @Test
    func ordersArrivingOnTimeOrLateJudgeTheOutcomeAgain() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = H.publisher(environment)
            let now = Date()
            let (_, declined) = Self.declining("O", 3, now: now)
            try await H.store(declined, environment)
            try await H.whileRunning(environment, settings: H.settings(controlShare: 0)) {
                try await publisher.publish(declined.map { try H.event($0) })
                #expect(try await H.evaluated(declined, environment))
                let asOf = declined[0].scoredAt
                #expect(
                    try await H.count(
                        environment,
                        """
                        SELECT count(*) FROM retention_alerts
                        WHERE observed_outcome = 'pending' AND abs(extract(epoch FROM as_of - $1)) < 0.001
                        """,
                        [asOf]
                    ) == 3
                )
                /// Stores orders as intake would and publishes the event intake's relay would.
                func order(
                    _ id: String,
                    _ customer: String,
                    at: Date,
                    amount: String,
                    kind: String = "purchase",
                    original: String? = nil
                ) async throws {
                    // To the millisecond, as intake stores an order's time from its message: the event's time must
                    // name the stored instant exactly, or the judgement as of it would leave the order out.
                    let at = Timestamp(at).date
                    try await environment.pool.execute(
                        """
                        INSERT INTO orders (order_id, customer_id, kind, original_order_id, occurred_at, amount, currency,
                            amount_base, content_hash)
                        VALUES ($1, $2, $3, $4, $5, $6::numeric, 'USD', $6::numeric, 'test')
                        """,
                        [id, customer, kind, original, at, amount]
                    )
                    let event = OrderAcceptedEvents(customers: [
                        .init(
                            customerID: try Identifier(customer),
                            orderIDs: [try Identifier(id)],
                            occurredAt: Timestamp(at)
                        )
                    ])
                    try await publisher.publish([
                        OutboundMessage(
                            exchange: Topology.eventsExchange,
                            routingKey: Topology.EventKey.orderAccepted,
                            body: try event.encodedBody()
                        )
                    ])
                }
                func outcome(_ customer: String) async throws -> (String, String) {
                    let row = try await environment.pool.query(
                        "SELECT observed_outcome, returned_value::text FROM retention_alerts WHERE customer_id = $1",
                        [customer]
                    )[0]
                    return (try row.decode(0), try row.decode(1))
                }
                // O-0 buys after the alert: returned, with the purchase's value; a refund of half lowers it.
                try await order("o-1", "O-0", at: now - 600, amount: "80.00")
                #expect(try await eventually { try await outcome("O-0") == ("returned", "80.0000") })
                try await order("o-2", "O-0", at: now - 300, amount: "30.00", kind: "refund", original: "o-1")
                try await order("o-3", "O-0", at: now - 200, amount: "5.50")
                #expect(try await eventually { try await outcome("O-0") == ("returned", "55.5000") })
                // O-1 bought before the alert's as_of: that order says nothing about the alert.
                try await order("o-4", "O-1", at: asOf - 60, amount: "40.00")
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await outcome("O-1") == ("pending", "0.0000"))
                // O-2: a purchase reported late, after a newer one arrived; both count.
                try await order("o-5", "O-2", at: now - 100, amount: "10.00")
                #expect(try await eventually { try await outcome("O-2") == ("returned", "10.0000") })
                try await order("o-6", "O-2", at: now - 1_000, amount: "15.00")
                #expect(try await eventually { try await outcome("O-2") == ("returned", "25.0000") })
            }
            await publisher.close()
        }
    }
}
