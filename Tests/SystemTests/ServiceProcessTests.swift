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
    }
}
