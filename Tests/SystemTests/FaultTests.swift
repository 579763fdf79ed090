import CRMAMQP
import CRMSupport
import Foundation
import TestSupport
import Testing

extension SystemTests {
    /// Faults while orders flow through the real executables, each with its own accounts as deployed; each run
    /// ends in an exact reconciliation: every valid order stored once, every customer scored, dead letters only
    /// for the invalid orders, nothing left in an outbox or a queue.
    @Suite("Faults under load", .serialized)
    struct FaultTests {
        enum Fault: String, CaseIterable, Sendable, CustomTestStringConvertible {
            case brokerRestart, databaseRestart, killIntake, killScoring, killAlerts, killComplaints
            case twoReplicasOneKilled
            var testDescription: String { rawValue }
        }

        @Test(arguments: Fault.allCases)
        func nothingIsLostOrCountedTwice(_ fault: Fault) async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                let system = SystemHarness(environment)
                let stream = SystemHarness.OrderStream(count: 8_000)
                try await system.start(replicas: fault == .twoReplicasOneKilled ? 2 : 1)
                try await system.publish(stream) {
                    switch fault {
                    case .brokerRestart:
                        try Shell.run("rabbitmqctl -q stop_app")
                        try await Task.sleep(for: .seconds(2))
                        try Shell.run("rabbitmqctl -q start_app && rabbitmqctl -q await_startup")
                    case .databaseRestart:
                        let cluster = try Shell.run("pg_lsclusters -h | head -1 | awk '{print $1\" \"$2}'")
                            .trimmingCharacters(in: .whitespacesAndNewlines)
                        try Shell.run("pg_ctlcluster \(cluster) restart")
                    case .killIntake, .killScoring, .killAlerts, .killComplaints:
                        let service = "crm-" + fault.rawValue.dropFirst(4).lowercased()
                        system.killOne(service)
                        try await Task.sleep(for: .milliseconds(500))
                        try system.launch(service)
                    case .twoReplicasOneKilled:
                        for service in SystemHarness.services { system.killOne(service) }
                    }
                }
                let ledger = try await system.reconcile(stream)
                let failures = await system.stopAll()
                #expect(
                    ledger == system.expected(stream),
                    "after \(fault.rawValue): \(ledger), expected \(system.expected(stream))"
                )
                if system.repeatedDeliveries + system.repeatedDeadLetters > 0 {
                    print(
                        "\(fault.rawValue): delivered again with the same message id: \(system.repeatedDeliveries) routed "
                            + "complaints, \(system.repeatedDeadLetters) dead letters"
                    )
                }
                #expect(failures.isEmpty, "\(failures)")
            }
        }

        /// A backlog of 100,000 orders published while intake is down drains once it starts.
        @Test func aBacklogOfAHundredThousandOrdersDrains() async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                let system = SystemHarness(environment)
                let stream = SystemHarness.OrderStream(count: 100_000, customers: 5_000)
                try await system.publish(stream)
                let queued = try await system.publisher.inspectQueue(Topology.intakeQueue).messages
                #expect(queued == 102_000)
                let started = ContinuousClock.now
                try await system.start()
                let ledger = try await system.reconcile(stream, timeout: .seconds(600))
                let drained = ContinuousClock.now - started
                let failures = await system.stopAll()
                #expect(ledger == system.expected(stream), "\(ledger)")
                #expect(failures.isEmpty, "\(failures)")
                print("backlog of \(queued) messages drained and scored in \(drained)")
            }
        }
    }
}
