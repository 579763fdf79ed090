import CRMSupport
import Foundation
import TestSupport
import Testing

@testable import Alerts

private typealias H = AlertsHarness

/// crm-alerts in-process against the real PostgreSQL and RabbitMQ: events in, alerts on the desk queues.
@Suite("Alerts service")
struct AlertsServiceTests {
    @Test func aDeclineRaisesOneAlertWithEvidenceAndARedeliveryRaisesNothing() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = H.publisher(environment)
            let scoredAt = Date()
            let healthy = H.Score(customerID: "C-42", scoredAt: scoredAt.addingTimeInterval(-86_400))
            var declined = healthy
            declined.stage = .decline
            declined.pAlive = 0.25
            declined.lastOrderAt = scoredAt.addingTimeInterval(-75 * 86_400)
            declined.scoredAt = scoredAt
            let decline = declined
            let bronze = H.Score(customerID: "C-7", stage: .termination, tier: .bronze, pAlive: 0.05, predicted: 50)
            let received = try await H.whileRunning(environment) {
                try await publisher.publish([try H.event(healthy)])
                #expect(
                    try await eventually {
                        try await H.count(environment, "SELECT count(*) FROM alert_customer_state") == 1
                    }
                )
                // The same scoring twice (a redelivery), then the decline, then the decline again.
                try await publisher.publish([try H.event(healthy), try H.event(decline, previous: (.maturity, .gold))])
                try await publisher.publish([try H.event(decline, previous: (.maturity, .gold)), try H.event(bronze)])
                #expect(try await H.evaluated([decline, bronze], environment))
                #expect(try await eventually { try await H.settled(environment, publisher) })
                return try await H.drainAlerts(environment)
            }
            #expect(received.count == 1)
            let alert = try #require(received.first)
            #expect(alert.alert.customerID.rawValue == "C-42")
            #expect(alert.alert.reasons == [.lifecycleDecline, .pAliveLow, .pAliveDrop, .overduePurchase])
            // Value at risk: 2000 ÷ 0.25 × 0.75 = 6000, p1 by the default bands, on the p1 queue.
            #expect(alert.alert.valueAtRisk.description == "6000.00")
            #expect(alert.alert.priority == .p1)
            #expect(alert.queue == "alerts.retention.p1")
            #expect(alert.alert.suggestedAction == "account_manager_call")
            #expect(alert.alert.customer.daysSinceLastOrder == 75)
            #expect(alert.alert.customer.pAlive == 0.25)
            let json = try #require(try JSONSerialization.jsonObject(with: alert.body) as? [String: Any])
            let evidence = try #require(json["evidence"] as? [[String: Any]])
            #expect(evidence.count == 4)
            #expect(
                evidence[0]["from_stage"] as? String == "maturity" && evidence[0]["to_stage"] as? String == "decline"
            )
            #expect(evidence[2]["from_p_alive"] as? Double == 0.9 && evidence[2]["to_p_alive"] as? Double == 0.25)
            #expect(evidence[3]["interval_multiple"] as? Double == 2)

            let stored = try await H.storedAlerts(environment)
            #expect(stored.map(\.id) == [alert.alert.alertID.rawValue])
            #expect(stored.first?.delivery == "queued" && stored.first?.status == "open")
            let open = try await H.count(environment, "SELECT count(*) FROM retention_alert_reasons WHERE open")
            #expect(open == 4)
            // The bronze customer was evaluated (its state kept) but gets no alert.
            let states = try await H.count(environment, "SELECT count(*) FROM alert_customer_state")
            #expect(states == 2)
            await publisher.close()
        }
    }

    @Test func complaintsFromAGoldCustomerAndRepeatedComplaintsFromASilverOne() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = H.publisher(environment)
            try await H.store(
                [
                    H.Score(customerID: "G-1"), H.Score(customerID: "S-1", tier: .silver),
                    H.Score(customerID: "B-1", tier: .bronze),
                ],
                environment
            )
            // Silver customers are eligible here (the default minimum is gold); bronze ones never are.
            let received = try await H.whileRunning(environment, settings: H.settings(minimumTier: .silver)) {
                // A complaint received before the customer's first evaluation still counts as new.
                try await publisher.publish([
                    try H.complaint("K-1", customer: "G-1", receivedAt: Date().addingTimeInterval(-3_600))
                ])
                try await publisher.publish((1...3).map { try! H.complaint("K-S\($0)", customer: "S-1") })
                try await publisher.publish((1...3).map { try! H.complaint("K-B\($0)", customer: "B-1") })
                // A redelivered complaint is no new complaint.
                try await publisher.publish([try H.complaint("K-1", customer: "G-1")])
                #expect(
                    try await eventually {
                        try await H.count(environment, "SELECT count(*) FROM alert_complaints WHERE evaluated") == 7
                    }
                )
                #expect(try await eventually { try await H.settled(environment, publisher) })
                return try await H.drainAlerts(environment)
            }
            let byCustomer = Dictionary(grouping: received.map(\.alert), by: \.customerID.rawValue)
            #expect(byCustomer["G-1"]?.count == 1)
            #expect(byCustomer["G-1"]?.first?.reasons == [.complaintValuableCustomer])
            #expect(byCustomer["S-1"]?.flatMap(\.reasons) == [.repeatedComplaints])
            #expect(byCustomer["B-1"] == nil)
            await publisher.close()
        }
    }

    @Test func theSweepFindsCustomersWhoStoppedBuyingWithoutAnyEvent() async throws {
        let now = Date()
        // A full rescoring a month later rewrites the row, without an event: 60 days silent, interval 21.5.
        try await sweepFindsASilentCustomer(
            lastOrderAt: now.addingTimeInterval(-30 * 86_400),
            scoredAt: now.addingTimeInterval(-86_400)
        ) { before, environment in
            var later = before
            later.scoredAt = now
            later.lastOrderAt = now.addingTimeInterval(-60 * 86_400)
            try await H.store([later], environment)
        }
    }

    /// A full rescoring of the present keeps a score whose figures did not move; the customer stands as of the
    /// rescoring all the same, and the days without an order count to it.
    @Test func theSweepFindsThemWhenTheRescoringKeptTheirScore() async throws {
        let now = Date()
        try await sweepFindsASilentCustomer(
            lastOrderAt: now.addingTimeInterval(-60 * 86_400),
            scoredAt: now.addingTimeInterval(-30 * 86_400)
        ) { _, environment in
            try await environment.pool.execute(
                """
                INSERT INTO scoring_models (as_of, as_of_requested, time_unit_days, customers, settings)
                VALUES ($1, false, 7, 1, '{}')
                """,
                [now]
            )
        }
    }

    /// A customer healthy at its first sweep, then silent 60 days by `rescore` (interval 21.5): one overdue alert.
    private func sweepFindsASilentCustomer(
        lastOrderAt: Date,
        scoredAt: Date,
        rescore: @escaping @Sendable (H.Score, TestEnvironment) async throws -> Void
    ) async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = H.publisher(environment)
            let before = H.Score(customerID: "Q-1", lastOrderAt: lastOrderAt, scoredAt: scoredAt)
            try await H.store([before], environment)
            let configuration = H.settings(sweepInterval: .milliseconds(200))
            let alerts = try await H.whileRunning(environment, settings: configuration) {
                // The first sweep evaluates the customer: healthy, no alert.
                #expect(
                    try await eventually {
                        try await H.count(environment, "SELECT count(*) FROM alert_customer_state") == 1
                    }
                )
                try await rescore(before, environment)
                #expect(
                    try await eventually {
                        try await H.count(environment, "SELECT count(*) FROM retention_alerts") == 1
                    }
                )
                #expect(try await eventually { try await H.settled(environment, publisher) })
                return try await H.drainAlerts(environment)
            }
            #expect(alerts.map(\.alert.reasons) == [[.overduePurchase]])
            #expect(alerts.first?.alert.customer.daysSinceLastOrder == 60)
            let sweeps = try await H.count(
                environment,
                "SELECT count(*) FROM alert_sweeps WHERE finished_at IS NOT NULL"
            )
            #expect(sweeps >= 2)
            await publisher.close()
        }
    }
}
