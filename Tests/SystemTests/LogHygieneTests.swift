import Foundation
import Shared
import Testing
import TestSupport

extension SystemTests {
    /// What the logs must never hold: passwords, and message bodies (customer data) at info level.
    @Suite("Log hygiene", .serialized)
    struct LogHygieneTests {
        @Test(arguments: ["crm-intake", "crm-complaints"])
        func noPasswordAndNoMessageBodyInTheLog(_ service: String) async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                let log = FileManager.default.temporaryDirectory.appendingPathComponent("crm-log-\(UUID().uuidString)")
                _ = FileManager.default.createFile(atPath: log.path, contents: nil)
                defer { try? FileManager.default.removeItem(at: log) }
                let handle = try FileHandle(forWritingTo: log)
                let process = Process()
                process.executableURL = Shell.binDirectory.appendingPathComponent(service)
                var variables = environment.serviceVariables
                variables["CRM_HTTP_PORT"] = "0"
                variables["CRM_LOG_LEVEL"] = "info"
                process.environment = ProcessInfo.processInfo.environment.merging(variables) { $1 }
                process.standardOutput = handle
                process.standardError = handle
                try process.run()
                defer { if process.isRunning { process.terminate() } }

                let publisher = AMQPPublisher(
                    settings: environment.amqp, name: "test", topology: Topology.system(desks: []), logger: TestServers.logger)
                let marker = "Zhang-Private-7731"
                try await publisher.publish([
                    OutboundMessage(
                        exchange: Topology.ordersExchange, routingKey: "order.v1",
                        body: Data(#"{"schema":"order.v1","order_id":"L-1","customer_id":"C-1","occurred_at":"2026-11-20T10:15:00Z","amount":"5.00","currency":"USD","customer":{"name":"\#(marker)"}}"#.utf8)),
                    OutboundMessage(
                        exchange: Topology.ordersExchange, routingKey: "order.v1",
                        body: Data(#"{"schema":"order.v1","order_id":"L-2","customer_id":"C-1","amount":"-1","note":"\#(marker)"}"#.utf8)),
                    OutboundMessage(
                        exchange: Topology.complaintsExchange, routingKey: "complaint.v1.new",
                        body: Data(#"{"schema":"complaint.v1","complaint_id":"L-3","customer_id":"C-1","received_at":"2026-11-20T10:15:00Z","channel":"email","subject":"\#(marker)"}"#.utf8)),
                    OutboundMessage(
                        exchange: Topology.complaintsExchange, routingKey: "complaint.v1.new",
                        body: Data(#"{"schema":"complaint.v1","complaint_id":"L-4","subject":"\#(marker)"}"#.utf8)),
                ])
                try await Task.sleep(for: .seconds(2))
                await publisher.close()
                kill(process.processIdentifier, SIGTERM)
                for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
                try handle.close()
                let text = try String(contentsOf: log, encoding: .utf8)
                #expect(text.contains("\"level\":\"info\""), "the service logged nothing at info level")
                for password in [environment.amqp.password, Self.password(in: environment.database.url)] where !password.isEmpty {
                    #expect(!text.contains(password), "a password appears in the log of \(service)")
                }
                #expect(!text.contains(marker), "message content appears in the log of \(service)")
            }
        }

        static func password(in url: String) -> String {
            guard let scheme = url.range(of: "://"), let at = url.firstIndex(of: "@") else { return "" }
            let credentials = url[scheme.upperBound..<at]
            return credentials.split(separator: ":", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        }
    }
}
