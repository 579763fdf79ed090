import Foundation
import TestSupport
import Testing

@testable import CRMAMQP
@testable import CRMSupport

/// `amqps://` really is TLS, verified: a TLS listener (socat, with a throw-away certificate) in front of the local
/// broker, which itself listens in plain text on loopback only.
@Suite("AMQP over TLS", .serialized)
struct AMQPTLSTests {
    /// A certificate for `host`, its key, and a socat TLS listener on `port` forwarding to the broker.
    struct TLSListener {
        let directory: URL
        let certificate: String
        let port: Int
        let process: Process

        init(host: String) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("crm-tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            certificate = directory.appendingPathComponent("cert.pem").path
            let key = directory.appendingPathComponent("key.pem").path
            try Shell.run(
                "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj '/CN=\(host)' "
                    + "-addext 'subjectAltName=DNS:\(host)' -keyout '\(key)' -out '\(certificate)'"
            )
            port = TestPorts.unused()
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "socat", "OPENSSL-LISTEN:\(port),bind=127.0.0.1,reuseaddr,fork,cert=\(certificate),key=\(key),verify=0",
                "TCP:127.0.0.1:5672",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        /// Waits until the listener accepts connections. A busy machine running the other suites in parallel can take seconds to start a process, so this waits
        /// up to half a minute, and says at once when socat exited (the port taken, say) instead of waiting.
        func ready() async throws {
            for _ in 0..<300 {
                if (try? Shell.run("exec 3<>/dev/tcp/127.0.0.1/\(port)")) != nil { return }
                guard process.isRunning else {
                    let status = process.terminationStatus
                    throw TestSetupError("socat exited with status \(status) before listening on \(port)")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw TestSetupError("socat did not listen on \(port) within 30 seconds")
        }

        /// SIGKILL: socat inherits the test runner's blocked signals, so SIGTERM would wait forever.
        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static func settings(_ environment: TestEnvironment, port: Int, caFile: String?) -> AMQPSettings {
        var settings = environment.amqp
        settings.host = "localhost"
        settings.port = port
        settings.useTLS = true
        settings.caFile = caFile
        settings.connectTimeout = .seconds(5)
        return settings
    }

    @Test func amqpsVerifiesTheBrokersCertificateAndName() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let good = try TLSListener(host: "localhost")
            defer { good.stop() }
            let wrongName = try TLSListener(host: "broker.example.invalid")
            defer { wrongName.stop() }
            try await good.ready()
            try await wrongName.ready()

            // Trusted certificate for the right name: messages flow through TLS.
            let publisher = AMQPPublisher(
                settings: Self.settings(environment, port: good.port, caFile: good.certificate),
                name: "tls",
                topology: Topology.intake,
                logger: TestServers.logger
            )
            try await publisher.publish(
                OutboundMessage(exchange: Topology.ordersExchange, routingKey: "order.v1", body: Data("{}".utf8))
            )
            #expect(try await publisher.inspectQueue(Topology.intakeQueue).messages == 1)
            await publisher.close()

            // A certificate no trusted CA signed (the system store is used when no CA file is given)...
            let untrusted = AMQPPublisher(
                settings: Self.settings(environment, port: good.port, caFile: nil),
                name: "tls",
                logger: TestServers.logger
            )
            await #expect(throws: AMQPError.self) { try await untrusted.connect() }
            await untrusted.close()
            // ...and a trusted certificate for another name are refused.
            let misnamed = AMQPPublisher(
                settings: Self.settings(environment, port: wrongName.port, caFile: wrongName.certificate),
                name: "tls",
                logger: TestServers.logger
            )
            await #expect(throws: AMQPError.self) { try await misnamed.connect() }
            await misnamed.close()
        }
    }

    @Test func tlsSettingsMustAgreeWithTheURL() throws {
        let plain = Settings(["CRM_AMQP_URL": "amqp://u:p@broker/crm", "CRM_AMQP_CA_FILE": "/etc/ssl/ca.pem"])
        #expect(throws: SettingsError.self) { _ = try AMQPSettings.from(plain) }
        let half = Settings(["CRM_AMQP_URL": "amqps://u:p@broker/crm", "CRM_AMQP_CERT_FILE": "/etc/ssl/client.pem"])
        #expect(throws: SettingsError.self) { _ = try AMQPSettings.from(half) }
        let tls = try AMQPSettings.from(Settings(["CRM_AMQP_URL": "amqps://u:p@broker/crm"]))
        #expect(tls.useTLS && tls.port == 5671)
        #expect(tls.trustedCAFile == AMQPSettings.systemCAFile)
        #expect(AMQPSettings.systemCAFile != nil, "no system CA bundle found (ca-certificates)")
        #expect(!tls.redacted.contains("p@"))
    }
}
