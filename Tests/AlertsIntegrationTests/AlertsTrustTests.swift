import CRMAMQP
import CRMSchema
import CRMSupport
import Foundation
import TestSupport
import Testing

@testable import Alerts

private typealias H = AlertsHarness

/// crm-alerts with its own accounts takes `customer.scored` only from `crm_scoring` and `complaint.signal` only from
/// `crm_complaints`, by the broker-checked AMQP `user_id`: an event of anyone else raises nothing and is
/// dead-lettered with its reason.
@Suite("Alerts trust only the owners of events")
struct AlertsTrustTests {
    /// Takes every dead letter of `alerts.events` with its reason.
    static func deadLetters(_ environment: TestEnvironment) async throws -> [(reason: String, body: Data)] {
        let consumer = AMQPConsumer(
            settings: environment.amqp,
            queue: "alerts.events.dead",
            prefetch: 100,
            logger: TestServers.logger
        )
        var letters: [(String, Data)] = []
        while true {
            let batch = try await consumer.nextBatch(maxCount: 100, wait: .milliseconds(300), linger: .milliseconds(20))
            guard let last = batch.last else { break }
            letters += batch.map { ($0.headers[Topology.errorHeader]?.stringValue ?? "", $0.body) }
            try await consumer.acknowledge(upTo: last)
        }
        await consumer.close()
        return letters
    }

    @Test func aScoreForgedByAnotherAccountRaisesNothingAndTheOwnersScoreRaisesTheAlert() async throws {
        try await TestServers.withEnvironment { environment in
            try await environment.grantServiceAccounts()
            let settings = H.settings().merging(try environment.serviceVariables(as: .alerts)) { $1 }
            // A customer that does not exist, in decline with a value at risk of 450,000: p1 if believed.
            var forged = H.Score(customerID: "GHOST-1", stage: .decline, pAlive: 0.1, predicted: 50_000)
            forged.lastOrderAt = Date().addingTimeInterval(-200 * 86_400)
            let score = forged
            let (dead, alerts, states) = try await H.whileRunning(environment, settings: settings) {
                // The test administrator may write anything to crm.events: only the user_id gives it away.
                let administrator = AMQPPublisher(
                    settings: environment.amqp,
                    name: "forger",
                    logger: TestServers.logger
                )
                try await administrator.publish(try H.event(score, previous: (.maturity, .gold)))
                // A complaint signal's body under scoring's own key: scoring owns the key, not that schema.
                let scoring = AMQPPublisher(
                    settings: try environment.amqp(as: .scoring),
                    name: "scoring",
                    logger: TestServers.logger
                )
                var disguised = try H.complaint("K-1", customer: "GHOST-1")
                disguised.routingKey = Topology.EventKey.customerScored
                try await scoring.publish(disguised)
                var dead: [(reason: String, body: Data)] = []
                _ = try await eventually {
                    dead += try await Self.deadLetters(environment)
                    return dead.count >= 2
                }
                #expect(try await H.count(environment, "SELECT count(*) FROM alert_customer_state") == 0)
                // The same score from scoring's own account is believed.
                try await scoring.publish(try H.event(score, previous: (.maturity, .gold)))
                #expect(try await H.evaluated([score], environment))
                await administrator.close()
                await scoring.close()
                return (
                    dead, try await H.storedAlerts(environment),
                    try await H.count(environment, "SELECT count(*) FROM alert_customer_state")
                )
            }
            #expect(dead.count == 2)
            let reasons = dead.map(\.reason).sorted()
            #expect(reasons.contains { $0.hasPrefix("schema: ") && $0.contains("customer.scored") })
            #expect(
                reasons.contains {
                    $0.hasPrefix("user_id: published by \"\(environment.amqp.user)\"") && $0.contains("crm_scoring")
                },
                "\(reasons)"
            )
            #expect(states == 1)
            #expect(alerts.map(\.customer) == ["GHOST-1"])
            #expect(alerts.first?.priority == "p1")
        }
    }
}
