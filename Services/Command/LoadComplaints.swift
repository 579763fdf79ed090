import ArgumentParser
import CRMAMQP
import CRMContract
import CRMSupport
import Foundation

/// `crm load-complaints FILE`: publishes a file of complaints and status updates to `crm.complaints`.
struct LoadComplaints: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-complaints",
        abstract: "Publish a file of complaint.v1 and complaint-status.v1 JSON lines to crm.complaints.",
        discussion: """
            Each line is checked as crm-complaints will check it; a line that would be refused stops the load \
            before anything is sent, naming the line and the reason. New complaints go out with routing key \
            complaint.v1.new, status updates with complaint.v1.status, in file order, confirmed by the broker. \
            deploy/samples/complaints.jsonl holds a sample in English and Chinese.
            """
    )

    @Argument(help: "The file to publish.", completion: .file())
    var file: String

    @Flag(help: "Print what was published as one JSON object.")
    var json = false

    func run() async throws {
        let text = try String(contentsOf: URL(fileURLWithPath: file), encoding: .utf8)
        var messages: [OutboundMessage] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            let body = Data(trimmed.utf8)
            let key: String
            do throws(MessageRejection) {
                switch try ComplaintsInboxMessage.decode(body: body) {
                case .complaint: key = "complaint.v1.new"
                case .status: key = "complaint.v1.status"
                }
            } catch {
                throw ValidationError("line \(number + 1): \(error.reason)")
            }
            messages.append(OutboundMessage(exchange: Topology.complaintsExchange, routingKey: key, body: body))
        }
        let environment = CommandEnvironment()
        let publisher = AMQPPublisher(
            settings: try environment.amqp(),
            name: "crm-load-complaints",
            logger: environment.logger
        )
        for start in stride(from: 0, to: messages.count, by: 500) {
            try await publisher.publish(Array(messages[start..<min(start + 500, messages.count)]))
        }
        await publisher.close()
        if json {
            print(
                try JSONOutput.string([
                    "published": messages.count, "file": file, "exchange": Topology.complaintsExchange,
                ])
            )
        } else {
            print("Published \(messages.count) complaint messages from \(file) to \(Topology.complaintsExchange).")
        }
    }
}
