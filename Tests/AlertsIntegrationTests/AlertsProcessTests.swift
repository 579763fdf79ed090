import CRMAMQP
import Foundation
import TestSupport
import Testing

@testable import Alerts

private typealias H = AlertsHarness

/// The real `crm-alerts` executable, killed with SIGKILL after its alerts committed and before they were published.
@Suite("Alerts processes")
struct AlertsProcessTests {
    static let playbookFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/retention-playbook.json").path

    /// Lets the test administrator publish anywhere in the test's virtual host except, when `blocked`, to `crm.alerts`:
    /// the service then commits alerts whose publishing fails until the permission comes back.
    static func permit(_ environment: TestEnvironment, alertsBlocked blocked: Bool) async throws {
        let user = try AMQPSettings(url: TestServers.amqpAdminURL).user
        let write = blocked ? #"^(?!crm\\.alerts$).*"# : ".*"
        try await ManagementAPI.request(
            "PUT",
            "/api/permissions/\(environment.virtualHost.name)/\(user)",
            body: #"{"configure":".*","write":"\#(write)","read":".*"}"#
        )
    }

    @Test func aCrashBetweenCommitAndPublishLosesAndDuplicatesNothing() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = H.publisher(environment)
            try await publisher.connect()
            func launch() throws -> Process {
                var variables = environment.serviceVariables
                variables["CRM_HTTP_PORT"] = "0"
                variables["CRM_RETENTION_PLAYBOOK_FILE"] = Self.playbookFile
                variables["CRM_ALERTS_DAILY_CAP_P3"] = "0"
                variables["CRM_ALERTS_MINIMUM_TIER"] = "silver"
                variables["CRM_ALERTS_CONTROL_SHARE"] = "0"
                return try Shell.launch("crm-alerts", environment: variables)
            }
            let now = Date()
            let scores = (0..<40).map { index in
                H.Score(
                    customerID: "K-\(index)",
                    stage: .termination,
                    tier: index.isMultiple(of: 2) ? .gold : .silver,
                    pAlive: 0.1,
                    predicted: Double(50 + index * 40),
                    lastOrderAt: now - 400 * 86_400,
                    scoredAt: now
                )
            }
            try await Self.permit(environment, alertsBlocked: true)
            let first = try launch()
            defer { if first.isRunning { first.terminate() } }
            try await publisher.publish(scores.map { try H.event($0) })
            // Committed: every alert and its outbox row are in PostgreSQL, and nothing reached a desk queue.
            let committed = try await eventually {
                try await H.count(environment, "SELECT count(*) FROM retention_alerts") == scores.count
            }
            #expect(committed)
            let pending = try await H.count(environment, "SELECT count(*) FROM crm_outbox WHERE source = 'alerts'")
            #expect(pending == scores.count)
            for priority in ["p1", "p2", "p3"] {
                #expect(try await publisher.inspectQueue("alerts.retention.\(priority)").messages == 0)
            }
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()

            try await Self.permit(environment, alertsBlocked: false)
            let second = try launch()
            defer { if second.isRunning { second.terminate() } }
            let published = try await eventually {
                try await H.count(environment, "SELECT count(*) FROM crm_outbox WHERE source = 'alerts'") == 0
            }
            #expect(published)
            second.terminate()
            second.waitUntilExit()
            #expect(second.terminationStatus == 0)

            let received = try await H.drainAlerts(environment)
            let stored = try await H.storedAlerts(environment)
            #expect(stored.count == scores.count)
            #expect(received.count == scores.count)
            #expect(Set(received.map(\.alert.alertID.rawValue)) == Set(stored.map(\.id)))
            #expect(Set(received.map(\.alert.customerID.rawValue)).count == scores.count)
            await publisher.close()
        }
    }

    @Test func twoReplicasWithAControlGroupAndACrashRaiseEachAlertOnceAndPublishNoControlAlert() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = H.publisher(environment)
            try await publisher.connect()
            let share = 0.5
            func launch() throws -> Process {
                var variables = environment.serviceVariables
                variables["CRM_HTTP_PORT"] = "0"
                variables["CRM_RETENTION_PLAYBOOK_FILE"] = Self.playbookFile
                variables["CRM_ALERTS_DAILY_CAP_P3"] = "0"
                variables["CRM_ALERTS_CONTROL_SHARE"] = "\(share)"
                return try Shell.launch("crm-alerts", environment: variables)
            }
            let now = Date()
            let scores = (0..<60).map { index in
                H.Score(
                    customerID: "Q-\(index)",
                    stage: .termination,
                    pAlive: 0.1,
                    predicted: Double(500 + index * 40),
                    lastOrderAt: now - 400 * 86_400,
                    scoredAt: now
                )
            }
            let control = Set(scores.map(\.customerID).filter { ControlGroup(share: share).group(of: $0) == .control })
            #expect(!control.isEmpty && control.count < scores.count)
            try await Self.permit(environment, alertsBlocked: true)
            let first = [try launch(), try launch()]
            defer { for process in first where process.isRunning { process.terminate() } }
            // Each score twice, so both replicas race for the same customers.
            try await publisher.publish((scores + scores).shuffled().map { try H.event($0) })
            #expect(
                try await eventually {
                    try await H.count(environment, "SELECT count(*) FROM retention_alerts") == scores.count
                }
            )
            let waiting = try await H.count(environment, "SELECT count(*) FROM crm_outbox WHERE source = 'alerts'")
            #expect(waiting == scores.count - control.count)
            for process in first {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }

            try await Self.permit(environment, alertsBlocked: false)
            let second = [try launch(), try launch()]
            defer { for process in second where process.isRunning { process.terminate() } }
            #expect(
                try await eventually {
                    try await H.count(environment, "SELECT count(*) FROM crm_outbox WHERE source = 'alerts'") == 0
                }
            )
            for process in second {
                process.terminate()
                process.waitUntilExit()
            }

            let received = try await H.drainAlerts(environment)
            let stored = try await H.storedAlerts(environment)
            #expect(stored.count == scores.count)
            #expect(Set(stored.map(\.customer)).count == scores.count)
            #expect(received.count == scores.count - control.count)
            #expect(
                Set(received.map(\.alert.customerID.rawValue)) == Set(scores.map(\.customerID)).subtracting(control)
            )
            #expect(Set(stored.filter { $0.delivery == "control" }.map(\.customer)) == control)
            await publisher.close()
        }
    }
}
