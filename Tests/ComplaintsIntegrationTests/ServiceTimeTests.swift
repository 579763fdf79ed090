import CRMContract
import CRMPostgres
import CRMSupport
import Complaints
import Foundation
import TestSupport
import Testing

/// Times a sender cannot mean: a complaint or status more than a day ahead, or before 1900, is dead-lettered; a status
/// counts no earlier than its complaint was routed and no later than it was received here.
@Suite("Complaints service: times out of range")
struct ServiceTimeTests {
    @Test func aBackDatedStatusMeetsNothingAndOneAheadBreachesNothing() async throws {
        try await TestServers.withEnvironment { environment in
            try await ComplaintsHarness.load(rules: try ComplaintsHarness.roundTheClockRules(), environment)
            let publisher = ComplaintsHarness.publisher(environment)
            let now = Date()
            let settings = ComplaintsHarness.settings([
                "CRM_COMPLAINTS_SLA_TARGETS": ["p1", "p2", "p3", "p4"].map { "\($0)=1h/8h" }.joined(separator: ","),
                "CRM_COMPLAINTS_SWEEP_INTERVAL": "1h",
            ])
            let letters = try await ComplaintsHarness.whileRunning(environment, settings: settings) {
                try await ComplaintsHarness.publish(
                    [
                        // Received by the channel ten hours ago, forwarded only now.
                        ComplaintsHarness.complaint("T-1", body: "The parcel never arrived.", receivedAt: now - 36_000),
                        ComplaintsHarness.complaint("T-2", body: "The parcel never arrived."),
                        ComplaintsHarness.complaint(
                            "T-3",
                            body: "The parcel never arrived.",
                            receivedAt: now + 172_800
                        ),
                        Data(
                            String(decoding: ComplaintsHarness.complaint("T-4", body: "Late."), as: UTF8.self)
                                .replacingOccurrences(of: Timestamp(now).rfc3339.prefix(4) + "-", with: "0001-")
                                .utf8
                        ),
                    ],
                    with: publisher
                )
                _ = try await eventually {
                    try await environment.pool.query("SELECT count(*) FROM complaints")[0].decode(0, as: Int.self) == 2
                }
                try await ComplaintsHarness.publish(
                    [
                        // "Acknowledged" a minute after the channel received it, before it ever reached a desk.
                        ComplaintsHarness.status("T-1", "acknowledged", at: now - 35_940),
                        // A desk whose clock runs twenty hours ahead.
                        ComplaintsHarness.status("T-2", "acknowledged", at: now + 72_000),
                        ComplaintsHarness.status("T-2", "resolved", at: now + 259_200),
                    ],
                    key: "complaint.v1.status",
                    with: publisher
                )
                _ = try await eventually {
                    try await environment.pool.query(
                        "SELECT count(*) FROM complaints WHERE first_response_outcome IS NOT NULL"
                    )[0].decode(0, as: Int.self) == 2
                }
                return try await ComplaintsHarness.take(3, from: "complaints.inbox.dead", environment)
            }
            let outcomes = try await environment.pool.query(
                "SELECT complaint_id, first_response_outcome, state FROM complaints ORDER BY complaint_id"
            )
            #expect(
                outcomes.map { [$0[0], $0[1], $0[2]] } == [
                    ["T-1", "breached", "in_progress"], ["T-2", "met", "in_progress"],
                ]
            )
            let reasons = letters.map { $0.headers["x-crm-error"]?.stringValue ?? "" }.sorted()
            #expect(
                reasons == [
                    "at: more than a day after it was received", "received_at: before 1900-01-01T00:00:00Z",
                    "received_at: more than a day after it was received",
                ]
            )
            await publisher.close()
        }
    }
}

/// A complaint id is one complaint: again with the same content it is a redelivery, with other content a conflict.
@Suite("Complaints service: reused ids")
struct ServiceConflictTests {
    @Test func aKnownIdWithOtherContentIsDeadLetteredAsAConflict() async throws {
        try await TestServers.withEnvironment { environment in
            try await ComplaintsHarness.load(rules: try ComplaintsHarness.roundTheClockRules(), environment)
            let publisher = ComplaintsHarness.publisher(environment)
            let received = Date()
            let original = ComplaintsHarness.complaint("K-1", body: "The parcel never arrived.", receivedAt: received)
            let changed = ComplaintsHarness.complaint("K-1", body: "Refund me now.", receivedAt: received)
            let letters = try await ComplaintsHarness.whileRunning(environment) {
                try await ComplaintsHarness.publish([original], with: publisher)
                _ = try await eventually {
                    try await environment.pool.query("SELECT count(*) FROM complaints")[0].decode(0, as: Int.self) == 1
                }
                // Across batches, and within one: the redelivery passes, the changed copies do not.
                try await ComplaintsHarness.publish([original, changed], with: publisher)
                try await ComplaintsHarness.publish(
                    [
                        ComplaintsHarness.complaint("K-2", body: "Late.", receivedAt: received),
                        ComplaintsHarness.complaint("K-2", body: "Early.", receivedAt: received),
                    ],
                    with: publisher
                )
                return try await ComplaintsHarness.take(2, from: "complaints.inbox.dead", environment)
            }
            #expect(letters.count == 2)
            #expect(
                letters.allSatisfy {
                    $0.headers["x-crm-error"]?.stringValue
                        == "complaint_id: already received with different content; the first version stands"
                }
            )
            // Two consumers may take K-2's copies in either order: whichever came first stands.
            let stored = try await environment.pool.query("SELECT complaint_id, body FROM complaints ORDER BY 1")
            #expect(stored.map(\.[0]) == ["K-1", "K-2"])
            #expect(stored.first?[1] == "The parcel never arrived.")
            #expect(stored.last?[1] == "Late." || stored.last?[1] == "Early.")
            await publisher.close()
        }
    }
}
