import CRMAMQP
import CRMContract
import CRMSchema
import CRMSupport
import Foundation
import TestSupport
import Testing

extension SystemTests {
    /// What the logs must never hold: passwords, and message content (customer data) at info level, whatever the
    /// message did: stored, dead-lettered for bad content, or refused as malformed.
    @Suite("Log hygiene", .serialized)
    struct LogHygieneTests {
        static let marker = "Zhang-Private-7731"

        /// Messages for every service, each carrying the marker in free text or personal data: valid ones that are
        /// stored and invalid ones that are dead-lettered with a reason. (A reason may quote a coded value such as an
        /// unknown `schema` or `currency`, by `MessageRejection`'s design; never free text.)
        static var messages: [OutboundMessage] {
            let now = Timestamp(Date()).rfc3339
            func message(_ exchange: String, _ key: String, _ body: String) -> OutboundMessage {
                OutboundMessage(exchange: exchange, routingKey: key, body: Data(body.utf8))
            }
            return [
                message(
                    Topology.ordersExchange,
                    "order.v1",
                    #"{"schema":"order.v1","order_id":"L-1","customer_id":"C-1","occurred_at":"2026-11-20T10:15:00Z","amount":"5.00","currency":"USD","customer":{"name":"\#(marker)","email":"\#(marker)@example.com"}}"#
                ),
                message(
                    Topology.ordersExchange,
                    "order.v1",
                    #"{"schema":"order.v1","order_id":"L-2","customer_id":"C-1","amount":"-1","currency":"USD","customer":{"name":"\#(marker)"}}"#
                ),
                message(
                    Topology.complaintsExchange,
                    "complaint.v1.new",
                    #"{"schema":"complaint.v1","complaint_id":"L-3","customer_id":"C-1","received_at":"\#(now)","channel":"email","subject":"\#(marker)","body":"\#(marker) lives at 1 Privet Drive"}"#
                ),
                message(
                    Topology.complaintsExchange,
                    "complaint.v1.new",
                    #"{"schema":"complaint.v1","complaint_id":"L-4","subject":"\#(marker)","body":"\#(marker)"}"#
                ),
                message(Topology.eventsExchange, Topology.EventKey.orderAccepted, #"{"note":"\#(marker)"}"#),
                message(Topology.eventsExchange, Topology.EventKey.customerScored, #"{"customer_id":"\#(marker)"}"#),
                message(
                    Topology.alertsExchange,
                    "alert.v1.feedback",
                    #"{"schema":"alert-feedback.v1","alert_id":"A-1","status":"resolved","outcome":"retained","at":"\#(now)","agent":"\#(marker)","note":"\#(marker)"}"#
                ),
            ]
        }

        @Test func noPasswordAndNoMessageContentInAnyServicesLog() async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                let publisher = try await SystemHarness.prepareDeployment(environment)
                var logs: [(service: String, file: URL, handle: FileHandle)] = []
                var processes: [Process] = []
                defer {
                    for process in processes where process.isRunning { process.terminate() }
                    for log in logs { try? FileManager.default.removeItem(at: log.file) }
                }
                for account in ServiceAccount.allCases {
                    let file = FileManager.default.temporaryDirectory.appendingPathComponent(
                        "crm-log-\(UUID().uuidString)"
                    )
                    _ = FileManager.default.createFile(atPath: file.path, contents: nil)
                    let handle = try FileHandle(forWritingTo: file)
                    let process = Process()
                    process.executableURL = Shell.binDirectory.appendingPathComponent(account.executable)
                    var variables = try environment.serviceVariables(as: account)
                    variables["CRM_HTTP_PORT"] = "0"
                    variables["CRM_LOG_LEVEL"] = "info"
                    process.environment = ProcessInfo.processInfo.environment.merging(variables) { $1 }
                    process.standardOutput = handle
                    process.standardError = handle
                    try process.run()
                    processes.append(process)
                    logs.append((account.executable, file, handle))
                }
                try await publisher.publish(Self.messages)

                // Wait for the effects, so the logs cover the work and not only the start.
                var done = false
                for _ in 0..<300 where !done {
                    try await Task.sleep(for: .milliseconds(100))
                    let stored = try await environment.pool.query(
                        "SELECT (SELECT count(*) FROM orders WHERE order_id = 'L-1'), (SELECT count(*) FROM complaints WHERE complaint_id = 'L-3'), (SELECT count(*) FROM customer_scores WHERE customer_id = 'C-1')"
                    )
                    var dead = 0
                    for queue in [
                        "intake.orders.dead", "complaints.inbox.dead", "scoring.events.dead", "alerts.events.dead",
                    ] {
                        dead += try await publisher.inspectQueue(queue).messages > 0 ? 1 : 0
                    }
                    let feedback = try await publisher.inspectQueue(Topology.feedbackQueue).messages
                    done =
                        stored.first.map { $0[0] == "1" && $0[1] == "1" && $0[2] == "1" } == true && dead == 4
                        && feedback == 0
                }
                #expect(done, "the services did not process every message")
                await publisher.close()
                for process in processes { kill(process.processIdentifier, SIGTERM) }
                for process in processes {
                    for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
                }

                var secrets = [environment.amqp.password]
                secrets += try ServiceAccount.allCases.map { try TestServers.password(of: $0) }
                if let components = URLComponents(string: environment.database.url), let password = components.password
                {
                    secrets.append(password)
                }
                for log in logs {
                    try log.handle.close()
                    let text = try String(contentsOf: log.file, encoding: .utf8)
                    #expect(text.contains("\"level\":\"info\""), "\(log.service) logged nothing at info level")
                    #expect(text.contains("Stopped"), "\(log.service) did not log its whole life")
                    for secret in secrets where !secret.isEmpty {
                        #expect(!text.contains(secret), "a password appears in the log of \(log.service)")
                    }
                    #expect(!text.contains(Self.marker), "message content appears in the log of \(log.service)")
                }
            }
        }
    }
}
