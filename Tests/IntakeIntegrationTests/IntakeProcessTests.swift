import CRMAMQP
import CRMContract
import CRMSupport
import Foundation
import Intake
import TestSupport
import Testing

/// The real `crm-intake` executable: two replicas at once, one killed with SIGKILL mid-stream.
@Suite("Intake processes")
struct IntakeProcessTests {
    @Test func twoReplicasAndAKill9LoseAndDoubleCountNothing() async throws {
        try await TestServers.withEnvironment { environment in
            let (_, bodies) = try OrderFile.bodies(
                of: IntakeHarness.fixtures.appendingPathComponent("CDNOW_master.txt")
            )
            let sample = Array(bodies.prefix(20_000))
            var expectedTotal = Decimal.zero
            for body in sample { expectedTotal += try OrderMessage.decode(body: body).amount.decimal }
            func launch() throws -> Process {
                var variables = environment.serviceVariables
                variables["CRM_HTTP_PORT"] = "0"
                variables["CRM_INTAKE_BATCH_SIZE"] = "100"
                return try Shell.launch("crm-intake", environment: variables)
            }
            let first = try launch()
            let second = try launch()
            defer {
                for process in [first, second] where process.isRunning { process.terminate() }
            }
            let publisher = IntakeHarness.publisher(environment)
            try await IntakeHarness.publish(sample, with: publisher)
            let started = try await eventually(.seconds(60)) {
                try await environment.pool.query("SELECT count(*) FROM orders")[0].decode(0, as: Int.self) > 3000
            }
            #expect(started)
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            let replacement = try launch()
            defer { if replacement.isRunning { replacement.terminate() } }
            let finished = try await eventually(.seconds(120)) {
                let count = try await environment.pool.query("SELECT count(*) FROM orders")[0].decode(0, as: Int.self)
                let waiting = try await publisher.inspectQueue(Topology.intakeQueue)
                return count == sample.count && waiting.messages == 0
            }
            #expect(finished)
            let totals = try await environment.pool.query("SELECT count(*), sum(amount_base) FROM orders")
            #expect(try totals[0].decode(0, as: Int.self) == sample.count)
            #expect(try totals[0].decode(1, as: Decimal.self) == expectedTotal)
            let dead = try await publisher.inspectQueue("intake.orders.dead")
            #expect(dead.messages == 0)
            await publisher.close()
        }
    }
}
