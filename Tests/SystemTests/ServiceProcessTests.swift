import Foundation
import Testing
import TestSupport

extension SystemTests {
    /// The real executables against the real servers: start, report ready, stop on SIGTERM.
    @Suite("Service processes", .serialized)
    struct ServiceProcessTests {
        @Test(arguments: ["crm-intake", "crm-scoring", "crm-alerts", "crm-complaints"])
        func startsReportsReadyAndStopsOnSIGTERM(_ executable: String) async throws {
            try await TestServers.withEnvironment { environment in
                let port = Int.random(in: 20_000...40_000)
                var variables = environment.serviceVariables
                variables["CRM_HTTP_PORT"] = "\(port)"
                let process = try Shell.launch(executable, environment: variables)
                defer { if process.isRunning { process.terminate() } }
                var ready = (status: 0, body: "")
                for _ in 0..<100 where ready.status != 200 {
                    try await Task.sleep(for: .milliseconds(100))
                    ready = Shell.get("http://127.0.0.1:\(port)/health/ready")
                }
                #expect(ready.status == 200, "ready answered \(ready)")
                #expect(ready.body.contains("\"database\":true"))
                #expect(Shell.get("http://127.0.0.1:\(port)/health/live").status == 200)
                #expect(Shell.get("http://127.0.0.1:\(port)/metrics").status == 200)
                #expect(Shell.get("http://127.0.0.1:\(port)/nothing-here").status == 404)
                kill(process.processIdentifier, SIGTERM)
                for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
                #expect(!process.isRunning)
                #expect(process.terminationStatus == 0)
            }
        }

        @Test func aBadSettingStopsTheServiceWithItsName() throws {
            let process = Process()
            process.executableURL = Shell.binDirectory.appendingPathComponent("crm-intake")
            process.environment = ["CRM_AMQP_URL": "http://nope", "CRM_DATABASE_URL": "postgres://x@127.0.0.1/x"]
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus == 2)
            #expect(text.contains("CRM_AMQP_URL: scheme must be amqp or amqps"))
        }

        /// A bad setting of the service's own, read while it builds its parts, is a configuration error too.
        @Test(arguments: [
            ("crm-intake", "CRM_INTAKE_BATCH_SIZE", "0"),
            ("crm-scoring", "CRM_SCORING_GOLD_SHARE", "2"),
            ("crm-alerts", "CRM_ALERTS_MINIMUM_TIER", "platinum"),
            ("crm-complaints", "CRM_COMPLAINTS_LINGER", "-5ms"),
        ])
        func aBadServiceSettingExitsTwoNamingTheVariable(
            _ executable: String, _ variable: String, _ value: String
        ) async throws {
            try await TestServers.withEnvironment { environment in
                var variables = environment.serviceVariables
                variables["CRM_HTTP_PORT"] = "0"
                variables[variable] = value
                let (status, text) = try Self.runToExit(executable, environment: variables)
                #expect(status == 2, "\(executable) exited \(status): \(text)")
                #expect(text.contains("configuration error"))
                #expect(text.contains(variable))
            }
        }

        /// `crm` tells a configuration error (2) from a failure (1).
        @Test func crmExitsTwoOnABadURLAndOneOnAMissingCustomer() async throws {
            try await TestServers.withEnvironment { environment in
                var variables = environment.serviceVariables
                variables["CRM_AMQP_URL"] = "http://nope"
                let (badURL, badURLText) = try Self.runToExit("crm", arguments: ["replay-dead", "intake.orders.dead"],
                                                              environment: variables)
                #expect(badURL == 2, "crm exited \(badURL): \(badURLText)")
                #expect(badURLText.contains("CRM_AMQP_URL"))
                let (missing, missingText) = try Self.runToExit(
                    "crm", arguments: ["customer", "no-such-customer-\(UUID().uuidString)"],
                    environment: environment.serviceVariables)
                #expect(missing == 1, "crm exited \(missing): \(missingText)")
                #expect(missingText.contains("no scored customer"))
            }
        }

        /// Runs an executable with `environment` over this process's; its exit status and standard error.
        static func runToExit(_ executable: String, arguments: [String] = [], environment: [String: String]) throws
            -> (Int32, String)
        {
            let process = Process()
            process.executableURL = Shell.binDirectory.appendingPathComponent(executable)
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text)
        }
    }
}
