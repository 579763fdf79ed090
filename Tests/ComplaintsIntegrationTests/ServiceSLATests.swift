import CRMAMQP
import CRMContract
import CRMPostgres
import CRMSupport
import Complaints
import Foundation
import TestSupport
import Testing

@Suite("Complaints service: SLA clocks and escalation", .serialized)
struct ServiceSLATests {
    /// One-second first response, three-second resolution, for every priority; three escalation levels.
    static func shortSLA(interval: String = "100ms", _ targets: String = "1s/3s") -> [String: String] {
        ComplaintsHarness.settings([
            "CRM_COMPLAINTS_SLA_TARGETS": ["p1", "p2", "p3", "p4"].map { "\($0)=\(targets)" }.joined(separator: ","),
            "CRM_COMPLAINTS_MAX_ESCALATION_LEVEL": "3",
            "CRM_COMPLAINTS_SWEEP_INTERVAL": interval,
        ])
    }

    @Test func aBreachEscalatesExactlyOncePerLevelWithTwoReplicasSweeping() async throws {
        try await TestServers.withEnvironment { environment in
            try await ComplaintsHarness.load(rules: try ComplaintsHarness.roundTheClockRules(), environment)
            let publisher = ComplaintsHarness.publisher(environment)
            try await ComplaintsHarness.publish(
                [
                    ComplaintsHarness.complaint(
                        "S-1",
                        customer: "C-9",
                        subject: "Parcel",
                        body: "The parcel never arrived."
                    )
                ],
                with: publisher
            )
            let (routed, escalations, extra) = try await ComplaintsHarness.whileRunning(
                environment,
                settings: Self.shortSLA(),
                replicas: 2
            ) {
                let routed = try await ComplaintsHarness.take(1, from: "desk.logistics", environment)
                let escalations = try await ComplaintsHarness.take(
                    3,
                    from: "desk.escalations",
                    environment,
                    timeout: .seconds(15)
                )
                // Level 3 is the last: nothing more may come, however long both replicas keep sweeping.
                try await Task.sleep(for: .seconds(2))
                return (routed, escalations, try await ComplaintsHarness.depth("desk.escalations", environment))
            }
            // The first response's breaches took every level (1, 2, 3 s; the resolution's 3 s comes after on the tie):
            // the resolution breach is still the complaint's outcome, and alerts hear it once.
            let signals = try await ComplaintsHarness.take(
                10,
                from: Topology.alertEventsQueue,
                environment,
                timeout: .seconds(3)
            )
            let breaches = try signals.filter { try ComplaintSignalEvent.decode(body: $0.body).breached == .resolution }
            #expect(breaches.compactMap(\.messageID) == ["S-1/breach/resolution"])
            let outcomes = try await environment.pool.query(
                "SELECT first_response_outcome, resolution_outcome FROM complaints WHERE complaint_id = 'S-1'"
            )
            #expect(outcomes.map { [$0[0], $0[1]] } == [["breached", "breached"]])
            #expect(routed.count == 1)
            let levels = try escalations.map { try RoutedComplaint.decode(body: $0.body) }
            #expect(levels.map(\.escalationLevel) == [1, 2, 3])
            #expect(levels.allSatisfy { $0.complaint.complaintID.rawValue == "S-1" && $0.desk == "logistics" })
            #expect(
                Set(escalations.compactMap(\.messageID)) == [
                    "S-1/escalation/1", "S-1/escalation/2", "S-1/escalation/3",
                ]
            )
            #expect(extra == 0)
            let recorded = try await environment.pool.query(
                "SELECT level, target FROM complaint_escalations WHERE complaint_id = 'S-1' ORDER BY level"
            )
            #expect(recorded.map { $0[0] } == ["1", "2", "3"])
            #expect(recorded.allSatisfy { $0[1] == "first_response" })
            let row = try await environment.pool.query(
                "SELECT escalation_level, next_check_at IS NULL, first_response_outcome FROM complaints WHERE complaint_id = 'S-1'"
            )
            #expect(row.first.map { [$0[0], $0[1], $0[2]] } == ["3", "t", "breached"])
            // Warnings go to the desk's own queue, once per target at most, and match what was recorded.
            let warnings = try await ComplaintsHarness.take(
                3,
                from: "desk.logistics",
                environment,
                timeout: .seconds(1)
            )
            let recordedWarnings = try await environment.pool.query("SELECT count(*) FROM complaint_sla_warnings")
            #expect(recordedWarnings.first?[0] == "\(warnings.count)")
            for warning in warnings {
                let message = try JSONDecoder().decode(SLAWarningMessage.self, from: warning.body)
                #expect(message.complaintID.rawValue == "S-1" && message.desk == "logistics")
            }
            await publisher.close()
        }
    }

    @Test func concurrentSweepsOfMissedBreachesRecordEachLevelOnce() async throws {
        try await TestServers.withEnvironment { environment in
            try await ComplaintsHarness.load(rules: try ComplaintsHarness.roundTheClockRules(), environment)
            let publisher = ComplaintsHarness.publisher(environment)
            // Received a minute ago with one-second targets: every level is already due when it is routed.
            try await ComplaintsHarness.publish(
                [
                    ComplaintsHarness.complaint(
                        "S-2",
                        subject: "Refund",
                        body: "Charged twice, refund please.",
                        receivedAt: Date() - 60
                    )
                ],
                with: publisher
            )
            let escalations = try await ComplaintsHarness.whileRunning(
                environment,
                settings: Self.shortSLA(interval: "1h")
            ) {
                _ = try await ComplaintsHarness.take(1, from: "desk.billing", environment)
                // Two replicas' sweepers, each with its own connections, racing over the same missed breaches.
                var sweepers: [(sweeper: SLASweeper, pool: PostgresPool)] = []
                for replica in 0..<2 {
                    sweepers.append(
                        try await ComplaintsHarness.sweeper(
                            environment,
                            settings: Self.shortSLA(),
                            name: "sweeper-\(replica)"
                        )
                    )
                }
                let racing = sweepers
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for round in 0..<8 {
                        group.addTask { _ = try await racing[round % 2].sweeper.sweepOnce() }
                    }
                    try await group.waitForAll()
                }
                for sweeper in sweepers { await sweeper.pool.close() }
                let escalations = try await ComplaintsHarness.take(
                    4,
                    from: "desk.escalations",
                    environment,
                    timeout: .seconds(5)
                )
                return escalations
            }
            let levels = try escalations.map { try RoutedComplaint.decode(body: $0.body).escalationLevel }
            #expect(levels.sorted() == [1, 2, 3])
            let recorded = try await environment.pool.query("SELECT count(*) FROM complaint_escalations")
            #expect(recorded.first?[0] == "3")
            await publisher.close()
        }
    }

    @Test func acknowledgementStopsTheClockAndReopeningResumesIt() async throws {
        try await TestServers.withEnvironment { environment in
            try await ComplaintsHarness.load(rules: try ComplaintsHarness.roundTheClockRules(), environment)
            let publisher = ComplaintsHarness.publisher(environment)
            // The desk acknowledges at 0.2 s and resolves at 0.5 s. One consumer takes the three in order (in practice
            // a desk answers what it was sent; here the order must not depend on the machine's load).
            let received = Date()
            try await ComplaintsHarness.publish(
                [
                    ComplaintsHarness.complaint(
                        "S-3",
                        subject: "Parcel",
                        body: "The parcel never arrived.",
                        receivedAt: received
                    )
                ],
                with: publisher
            )
            try await ComplaintsHarness.publish(
                [
                    ComplaintsHarness.status("S-3", "acknowledged", at: received + 0.2),
                    ComplaintsHarness.status("S-3", "resolved", at: received + 0.5),
                ],
                key: "complaint.v1.status",
                with: publisher
            )
            var settings = Self.shortSLA("1s/2s")
            settings["CRM_COMPLAINTS_CONSUMERS"] = "1"
            let outcome = try await ComplaintsHarness.whileRunning(environment, settings: settings) {
                _ = try await ComplaintsHarness.take(1, from: "desk.logistics", environment)
                // Well past both targets: a stopped clock never breaches.
                try await Task.sleep(for: .seconds(max(2.8 + received.timeIntervalSinceNow, 0)))
                let quiet = try await ComplaintsHarness.depth("desk.escalations", environment)
                let stopped = try await environment.pool.query(
                    """
                    SELECT state, first_response_outcome, resolution_outcome, next_check_at IS NULL, escalation_level
                    FROM complaints WHERE complaint_id = 'S-3'
                    """
                )
                // Reopened: the resolution clock resumes with 1.5 s of its 2 s left, and breaches.
                let reopenedAt = Date()
                try await ComplaintsHarness.publish(
                    [ComplaintsHarness.status("S-3", "reopened", at: reopenedAt)],
                    key: "complaint.v1.status",
                    with: publisher
                )
                let escalation = try await ComplaintsHarness.take(
                    1,
                    from: "desk.escalations",
                    environment,
                    timeout: .seconds(10)
                )
                return (quiet, stopped.first.map { row in (0..<5).map { row[$0] } }, escalation, reopenedAt, Date())
            }
            let (quiet, stopped, escalation, reopenedAt, escalatedBy) = outcome
            #expect(quiet == 0)
            #expect(stopped == ["resolved", "met", "met", "t", "0"])
            #expect(escalation.count == 1)
            #expect(try escalation.first.map { try RoutedComplaint.decode(body: $0.body).escalationLevel } == 1)
            // Not before the remaining 1.5 s of working time had run.
            #expect(escalatedBy.timeIntervalSince(reopenedAt) >= 1.4)
            let recorded = try await environment.pool.query(
                "SELECT level, target FROM complaint_escalations WHERE complaint_id = 'S-3' ORDER BY level"
            )
            #expect(recorded.first.map { [$0[0], $0[1]] } == ["1", "resolution"])
            let events = try await environment.pool.query(
                "SELECT status FROM complaint_status_events WHERE complaint_id = 'S-3' ORDER BY at"
            )
            #expect(events.map { $0[0] } == ["acknowledged", "resolved", "reopened"])
            await publisher.close()
        }
    }
}
