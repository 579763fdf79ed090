import Foundation
import Testing

@testable import CRMContract
@testable import CRMSupport

/// The AsyncAPI document cannot drift from the code: every message type, as the code encodes it, validates
/// against the document's schema for it (scripts/check-asyncapi.py, which also checks the document itself
/// against the official AsyncAPI 3.0.0 schema and against deploy/rabbitmq/definitions.json).
@Suite("AsyncAPI document against the code")
struct AsyncAPIConformanceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Each corpus message decoded by its Swift type and encoded again by the code.
    static func encodedByTheCode(_ body: Data, schema: String) throws -> Data {
        switch schema {
        case OrderMessage.schema: try OrderMessage.decode(body: body).encodedBody()
        case CustomerMessage.schema: try CustomerMessage.decode(body: body).encodedBody()
        case CustomerLifecycleEvent.schema: try CustomerLifecycleEvent.decode(body: body).encodedBody()
        case ComplaintMessage.schema: try ComplaintMessage.decode(body: body).encodedBody()
        case ComplaintStatusMessage.schema: try ComplaintStatusMessage.decode(body: body).encodedBody()
        case RoutedComplaint.schema: try RoutedComplaint.decode(body: body).encodedBody()
        case RetentionAlert.schema: try RetentionAlert.decode(body: body).encodedBody()
        case AlertFeedback.schema: try AlertFeedback.decode(body: body).encodedBody()
        case OrderAcceptedEvent.schema: try OrderAcceptedEvent.decode(body: body).encodedBody()
        case OrderAcceptedEvents.schema: try OrderAcceptedEvents.decode(body: body).encodedBody()
        case CustomerScoredEvent.schema: try CustomerScoredEvent.decode(body: body).encodedBody()
        case ComplaintSignalEvent.schema: try ComplaintSignalEvent.decode(body: body).encodedBody()
        default:
            throw CocoaError(.coderInvalidValue, userInfo: [NSDebugDescriptionErrorKey: "no Swift type for \(schema)"])
        }
    }

    @Test func everyMessageTheCodeEncodesValidatesAgainstTheDocument() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "crm-asyncapi-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var schemas = Set<String>()
        for seed in try MessageFuzzTests.seeds() {
            let encoded = try Self.encodedByTheCode(Data(seed.body), schema: seed.schema)
            try encoded.write(to: directory.appendingPathComponent(seed.name))
            schemas.insert(seed.schema)
        }
        #expect(schemas.count >= 10)
        let output = try Self.checkAsyncAPI(examples: directory)
        #expect(output.contains("check-asyncapi: all checks passed"))
        for schema in schemas { #expect(output.contains("is a valid \(schema)"), "\(schema) was not checked") }
    }

    /// Runs `scripts/check-asyncapi.py` over the examples; its output, whatever its exit status.
    static func checkAsyncAPI(examples: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "scripts/check-asyncapi.py", "--examples", examples.path]
        process.currentDirectoryURL = root
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }
}
