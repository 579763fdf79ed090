import CRMAMQP
import CRMSupport
import Complaints
import Foundation
import TestSupport
import Testing

@Suite("Complaints service: inbox", .serialized)
struct ServiceInboxTests {
    @Test func duplicateComplaintIDsAndStatusUpdatesAreNoOpsAndARewriteIsAConflict() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = ComplaintsHarness.publisher(environment)
            let original = ComplaintsHarness.complaint("D-1", subject: "Parcel", body: "The parcel never arrived.")
            let rewritten = ComplaintsHarness.complaint("D-1", subject: "Other", body: "You charged me twice, refund!")
            try await ComplaintsHarness.publish([original, original, rewritten], with: publisher)
            let (first, later, billing) = try await ComplaintsHarness.whileRunning(environment) {
                // The routed complaint, then a short look for a second one that must not come.
                var first = try await ComplaintsHarness.take(1, from: "desk.logistics", environment)
                first += try await ComplaintsHarness.take(1, from: "desk.logistics", environment, timeout: .seconds(2))
                // Again, in a later batch, and the same status update twice.
                try await ComplaintsHarness.publish([original], with: publisher)
                let at = Date()
                try await ComplaintsHarness.publish(
                    [
                        ComplaintsHarness.status("D-1", "acknowledged", at: at),
                        ComplaintsHarness.status("D-1", "acknowledged", at: at),
                    ],
                    key: "complaint.v1.status",
                    with: publisher
                )
                _ = try await eventually {
                    let waiting = try await ComplaintsHarness.depth(Topology.complaintsQueue, environment)
                    let events = try await environment.pool.query("SELECT 1 FROM complaint_status_events")
                    return waiting == 0 && !events.isEmpty
                }
                try await Task.sleep(for: .milliseconds(500))
                return (
                    first, try await ComplaintsHarness.depth("desk.logistics", environment),
                    try await ComplaintsHarness.depth("desk.billing", environment)
                )
            }
            #expect(first.count == 1)
            #expect(later == 0 && billing == 0)
            let rows = try await environment.pool.query("SELECT subject, state FROM complaints")
            #expect(rows.map { [$0[0], $0[1]] } == [["Parcel", "in_progress"]])
            let events = try await environment.pool.query("SELECT count(*) FROM complaint_status_events")
            #expect(events.first?[0] == "1")
            // The rewritten complaint under a known id is a conflict; the first version stands.
            let dead = try await ComplaintsHarness.take(
                2,
                from: "complaints.inbox.dead",
                environment,
                timeout: .seconds(1)
            )
            #expect(
                dead.map { $0.headers["x-crm-error"]?.stringValue } == [
                    "complaint_id: already received with different content; the first version stands"
                ]
            )
            await publisher.close()
        }
    }

    @Test func invalidMessagesAndUpdatesOfUnknownComplaintsAreDeadLetteredWithReasons() async throws {
        let bad: [(body: Data, key: String, reason: String)] = [
            (Data("not json".utf8), "complaint.v1.new", "body"),
            (
                Data(
                    #"{"schema":"complaint.v1","customer_id":"C-1","received_at":"2026-11-21T09:00:00Z","channel":"email","subject":"x"}"#
                        .utf8
                ), "complaint.v1.new", "complaint_id: missing"
            ),
            (Data(#"{"schema":"complaint.v9","complaint_id":"X-1"}"#.utf8), "complaint.v1.new", "schema: unknown"),
            (ComplaintsHarness.complaint("X-2", subject: "Parcel", language: "e"), "complaint.v1.new", "language"),
            (
                Data(
                    #"{"schema":"complaint.v1","complaint_id":"X-3","customer_id":"C-1","received_at":"2026-11-21T09:00:00Z","channel":"email"}"#
                        .utf8
                ), "complaint.v1.new", "subject: missing"
            ),
            (ComplaintsHarness.status("NOPE-404", "acknowledged"), "complaint.v1.status", "complaint_id: no complaint"),
            (
                Data(
                    #"{"schema":"complaint-status.v1","complaint_id":"V-1","status":"closed","at":"2026-11-21T09:00:00Z"}"#
                        .utf8
                ), "complaint.v1.status", "status"
            ),
        ]
        try await TestServers.withEnvironment { environment in
            let publisher = ComplaintsHarness.publisher(environment)
            for (index, item) in bad.enumerated() {
                try await ComplaintsHarness.publish(
                    [ComplaintsHarness.complaint("V-\(index)", subject: "Parcel", body: "The parcel never arrived.")],
                    with: publisher
                )
                try await ComplaintsHarness.publish([item.body], key: item.key, with: publisher)
            }
            let (routed, letters) = try await ComplaintsHarness.whileRunning(environment) {
                (
                    try await ComplaintsHarness.take(bad.count, from: "desk.logistics", environment),
                    try await ComplaintsHarness.take(bad.count, from: "complaints.inbox.dead", environment)
                )
            }
            #expect(routed.count == bad.count)
            #expect(letters.count == bad.count)
            let reasons = letters.map { $0.headers[Topology.errorHeader]?.stringValue ?? "" }
            for item in bad {
                #expect(
                    zip(letters, reasons).contains { $0.body == item.body && $1.hasPrefix(item.reason) },
                    "no dead letter starting with \"\(item.reason)\"; got \(reasons)"
                )
            }
            await publisher.close()
        }
    }
}

@Suite("Complaints service: rules store")
struct ServiceRulesStoreTests {
    @Test func desksComeFromTheRulesInForceElseTheDefaultFile() async throws {
        try await TestServers.withEnvironment { environment in
            let connection = environment.connection(name: "rules")
            let fromFile = try await ComplaintRulesStore.effectiveRules(
                on: connection,
                defaultFile: ComplaintsHarness.rulesFile
            )
            #expect(fromFile.origin == ComplaintsHarness.rulesFile)
            #expect(fromFile.rules.desks.map(\.name) == ComplaintsHarness.shippedDesks)
            let custom = try ComplaintsHarness.rules { object in
                object["desks"] = [["name": "only"]]
                object["routing"] = ["default_desk": "only", "rules": [] as [Any]]
            }
            try await ComplaintsHarness.load(rules: custom, environment)
            let fromDatabase = try await ComplaintRulesStore.effectiveRules(
                on: connection,
                defaultFile: "/nonexistent/rules.json"
            )
            #expect(fromDatabase.origin == "database version 1")
            #expect(fromDatabase.rules.desks.map(\.name) == ["only"])
            let queues = Set(ComplaintsService.topology(desks: ["only"]).queues.map(\.name))
            #expect(queues.isSuperset(of: ["desk.only", "desk.escalations", "complaints.inbox"]))
            // Alerts' queue is alerts' to check; crm migrate binds it to complaint signals with the whole system.
            #expect(!queues.contains("alerts.events"))
            #expect(
                Topology.system(desks: ["only"]).queues.first { $0.name == "alerts.events" }?.bindings
                    .contains(Topology.Binding(Topology.eventsExchange, Topology.EventKey.complaintSignal)) == true
            )
            await connection.close()
        }
    }
}
