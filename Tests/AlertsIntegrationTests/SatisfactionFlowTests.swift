import CRMAMQP
import CRMContract
import CRMSupport
import Complaints
import Foundation
import Scoring
import TestSupport
import Testing

@testable import Alerts

private typealias H = AlertsHarness

/// Satisfaction from the desks to retention: crm-complaints and crm-alerts running together against the real servers.
/// A rating is kept per complaint and reaches the customer object; a low rating from a gold customer raises
/// `dissatisfied` once, a gold customer's complaint left open past its resolution target `complaint_unresolved` once.
@Suite("Satisfaction flow")
struct SatisfactionFlowTests {
    static func complaint(_ id: String, customer: String, subject: String = "Parcel never arrived") -> OutboundMessage {
        let body =
            #"{"schema":"complaint.v1","complaint_id":"\#(id)","customer_id":"\#(customer)","#
            + #""received_at":"\#(Timestamp(Date()).rfc3339)","channel":"email","subject":"\#(subject)"}"#
        return OutboundMessage(
            exchange: Topology.complaintsExchange,
            routingKey: "complaint.v1.new",
            body: Data(body.utf8)
        )
    }

    static func status(_ id: String, _ status: String, satisfaction: Int? = nil, at: Date = Date()) -> OutboundMessage {
        let rating = satisfaction.map { #","satisfaction":\#($0)"# } ?? ""
        let body =
            #"{"schema":"complaint-status.v1","complaint_id":"\#(id)","status":"\#(status)","#
            + #""at":"\#(Timestamp(at).rfc3339)","agent":"agent-1"\#(rating)}"#
        return OutboundMessage(
            exchange: Topology.complaintsExchange,
            routingKey: "complaint.v1.status",
            body: Data(body.utf8)
        )
    }

    /// Every alert raised so far, with its reasons and evidence, by customer.
    static func alerts(
        _ environment: TestEnvironment
    ) async throws -> [(customer: String, reasons: String, evidence: String)] {
        try await environment.pool.query(
            "SELECT customer_id, array_to_string(reasons, ','), evidence::text FROM retention_alerts ORDER BY raised_at"
        ).map { (try $0.decode(0), try $0.decode(1), try $0.decode(2)) }
    }

    /// Whether an alert's comma-separated reasons name `reason`.
    static func names(_ reasons: String, _ reason: String) -> Bool {
        reasons.split(separator: ",").contains { $0 == reason }
    }

    @Test func ratingsAndBreachesReachRetentionOnceAndTheCustomerObject() async throws {
        try await TestServers.withEnvironment { environment in
            let rules = Repository.file("deploy/complaint-rules.json").path
            try await H.store(
                [H.Score(customerID: "G-1"), H.Score(customerID: "G-2"), H.Score(customerID: "B-1", tier: .bronze)],
                environment
            )
            // Every desk around the clock, and targets short enough to breach while the test runs.
            let data = try Data(contentsOf: URL(fileURLWithPath: rules))
            var document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            document["desks"] = (document["desks"] as? [[String: Any]] ?? []).map { desk in
                desk.filter { $0.key != "business_hours" }
            }
            let roundTheClock = String(
                decoding: try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]),
                as: UTF8.self
            )
            _ = try await environment.pool.transaction { connection in
                try ComplaintRulesStore.store(roundTheClock, source: "test", on: connection)
            }
            let complaintsSettings = [
                "CRM_COMPLAINT_RULES_FILE": rules, "CRM_COMPLAINTS_SWEEP_INTERVAL": "100ms",
                // A critical complaint (p1) breaches both targets within a second, its resolution at the second escalation
                // level whenever it is acknowledged; the others (p2 to p4) have time to be resolved.
                "CRM_COMPLAINTS_SLA_TARGETS": "p1=1s/1s,p2=1m/10m,p3=1m/10m,p4=1m/10m",
            ]
            let topology = ComplaintsService.topology(desks: ComplaintsTopology.shippedDesks).merging(Topology.alerts)
            let publisher = AMQPPublisher(
                settings: environment.amqp,
                name: "test",
                topology: topology,
                logger: TestServers.logger
            )
            try await H.whileRunning(environment) {
                try await environment.whileRunning(
                    "crm-complaints",
                    topology: topology,
                    settings: complaintsSettings,
                    parts: ComplaintsService.parts
                ) { _ in
                    try await publisher.publish([
                        Self.complaint("K-1", customer: "G-1"), Self.complaint("K-3", customer: "B-1"),
                    ])
                    // The gold customer's complaint is an alert of its own (complaint_valuable_customer) first.
                    #expect(try await eventually { try await Self.alerts(environment).count == 1 })
                    try await publisher.publish([
                        Self.status("K-1", "resolved", satisfaction: 1),
                        Self.status("K-3", "resolved", satisfaction: 1),
                    ])
                    #expect(try await eventually { try await Self.alerts(environment).count == 2 })
                    // Rated low again after a reopen: the same complaint raises nothing more.
                    try await publisher.publish([
                        Self.status("K-1", "reopened", at: Date().addingTimeInterval(0.1)),
                        Self.status("K-1", "resolved", satisfaction: 2, at: Date().addingTimeInterval(0.2)),
                    ])
                    // G-2's critical complaint is acknowledged and left open past its resolution target.
                    try await publisher.publish([
                        Self.complaint("K-2", customer: "G-2", subject: "The charger caught fire")
                    ])
                    // Its own alert; the breach of its one-second resolution target follows as an alert of its own, or
                    // as a second reason of the same alert when both signals reach one batch (a loaded machine).
                    #expect(
                        try await eventually { try await Self.alerts(environment).contains { $0.customer == "G-2" } }
                    )
                    try await publisher.publish([Self.status("K-2", "acknowledged")])
                    #expect(
                        try await eventually {
                            try await Self.alerts(environment).contains {
                                Self.names($0.reasons, "complaint_unresolved")
                            }
                        }
                    )
                    // Long enough for another sweep, rating or signal to raise something twice.
                    try await Task.sleep(for: .seconds(2))
                }
            }
            await publisher.close()
            let alerts = try await Self.alerts(environment)
            #expect(alerts.filter { Self.names($0.reasons, "dissatisfied") }.map(\.customer) == ["G-1"])
            #expect(alerts.filter { Self.names($0.reasons, "complaint_unresolved") }.map(\.customer) == ["G-2"])
            #expect(alerts.allSatisfy { $0.customer != "B-1" })
            let dissatisfied = try #require(alerts.first { Self.names($0.reasons, "dissatisfied") })
            #expect(dissatisfied.evidence.contains(#""complaint_id": "K-1""#))
            #expect(dissatisfied.evidence.contains(#""satisfaction": 1"#))
            let unresolved = try #require(alerts.first { Self.names($0.reasons, "complaint_unresolved") })
            #expect(unresolved.evidence.contains(#""breached_target": "resolution""#))
            #expect(unresolved.evidence.contains(#""complaint_id": "K-2""#))

            // The latest rating is kept per complaint and reaches the customer object.
            let rated = try await environment.pool.query(
                "SELECT complaint_id, satisfaction FROM complaints WHERE satisfaction IS NOT NULL ORDER BY 1"
            )
            #expect(rated.map { [$0[0], $0[1]] } == [["K-1", "2"], ["K-3", "1"]])
            let json = try #require(try await CustomerView.json(customerID: "G-1", pool: environment.pool))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            let satisfaction = try #require(object["satisfaction"] as? [String: Any])
            #expect(satisfaction["ratings"] as? Int == 1)
            #expect(satisfaction["mean"] as? Double == 2)
            #expect(satisfaction["last"] as? Int == 2)
            #expect(satisfaction["last_at"] is String)
            let threeDegree = try #require(object["three_degree"] as? [String: Any])
            #expect(threeDegree["satisfaction"] as? Double == 0.25)
            #expect(threeDegree["retention"] as? Double == 0.9)
            #expect(threeDegree["false_loyalty"] as? Bool == true)
            // No full rescoring has described the base's values yet: no percentile to read.
            #expect(threeDegree["contribution"] is NSNull)
            let unrated = try #require(try await CustomerView.json(customerID: "G-2", pool: environment.pool))
            #expect(unrated.contains(#""satisfaction":{"ratings":0,"mean":null"#))
            #expect(unrated.contains(#""false_loyalty":false"#))
        }
    }
}

/// The desks of the shipped complaint rules, as `crm migrate` declares their queues.
enum ComplaintsTopology {
    static let shippedDesks = [
        "safety", "risk", "legal", "priority_care", "international", "logistics", "billing", "quality",
        "customer_care", "accounts", "general",
    ]
}
