import CRMAMQP
import CRMContract
import CRMSupport
import Foundation
import TestSupport
import Testing

extension SystemTests {
    /// The four real executables, each with its own database role and broker user as deployed, do the whole job:
    /// the grants and permissions are enough, not only narrow.
    @Suite("Least privilege, end to end", .serialized)
    struct LeastPrivilegeFlowTests {
        @Test func theWholeSystemWorksWithEachServicesOwnAccounts() async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                let system = SystemHarness(environment, ownAccounts: true)
                try await system.start()
                let port = TestPorts.unused()
                var scoringVariables = try environment.serviceVariables(as: .scoring)
                scoringVariables["CRM_HTTP_PORT"] = "\(port)"
                let reader = try Shell.launch("crm-scoring", environment: scoringVariables)
                defer { if reader.isRunning { reader.terminate() } }

                let stream = SystemHarness.OrderStream(count: 1_000, customers: 200)
                try await system.publish(stream)
                // A valuable customer slipping into decline: crm-alerts raises a retention alert through its outbox.
                // C-8 is outside the default control group (10%): its hash's position is 0.58.
                let scored = CustomerScoredEvent(
                    customerID: try Identifier("C-8"),
                    previousLifecycleStage: .maturity,
                    previousTier: .gold,
                    customer: CustomerValueSnapshot(
                        tier: .gold,
                        lifecycleStage: .decline,
                        clv: try Money("5000.00"),
                        pAlive: 0.3,
                        lastOrderAt: Timestamp(Date().addingTimeInterval(-120 * 86_400)),
                        ordersCount: 12,
                        expectedIntervalDays: 20,
                        daysSinceLastOrder: 120
                    ),
                    scoredAt: Timestamp(Date())
                )
                // Published as scoring: alerts takes customer.scored from no other account.
                let scoring = AMQPPublisher(
                    settings: try environment.amqp(as: .scoring),
                    name: "scoring",
                    logger: TestServers.logger
                )
                try await scoring.publish(
                    OutboundMessage(
                        exchange: Topology.eventsExchange,
                        routingKey: Topology.EventKey.customerScored,
                        body: try scored.encodedBody()
                    )
                )
                await scoring.close()

                let ledger = try await system.reconcile(stream)
                #expect(ledger == system.expected(stream), "\(ledger), expected \(system.expected(stream))")
                // Each service recorded its replica under its own role's row security.
                let replicas = try await environment.pool.query("SELECT DISTINCT service FROM crm_instances ORDER BY 1")
                #expect(replicas.compactMap { $0[0] } == SystemHarness.services.sorted())
                var retention = 0
                for _ in 0..<100 where retention == 0 {
                    for priority in ["p1", "p2", "p3"] {
                        retention += try await system.publisher.inspectQueue("alerts.retention.\(priority)").messages
                    }
                    if retention == 0 { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(retention >= 1, "crm-alerts published no retention alert")
                for queue in [
                    "scoring.events.dead", "alerts.events.dead", "complaints.inbox.dead", "alerts.feedback.dead",
                ] {
                    #expect(try await system.publisher.inspectQueue(queue).messages == 0, "dead letters in \(queue)")
                }
                // Scoring's read API, as its own role: the customer object counts open alerts and complaints from
                // the two columns it may read.
                let customer = Shell.get("http://127.0.0.1:\(port)/customers/C-8")
                #expect(customer.status == 200, "GET /customers/C-8 answered \(customer)")
                let object = try JSONSerialization.jsonObject(with: Data(customer.body.utf8)) as? [String: Any]
                #expect(object?["open_alerts"] is Int && object?["open_complaints"] is Int, "\(customer.body)")
                // ... and the satisfaction from the two columns of each complaint it may read.
                #expect(object?["satisfaction"] is [String: Any], "\(customer.body)")

                kill(reader.processIdentifier, SIGTERM)
                let failures = await system.stopAll()
                #expect(failures.isEmpty, "\(failures)")
            }
        }
    }
}
