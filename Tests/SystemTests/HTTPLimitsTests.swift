import CRMAMQP
import CRMSchema
import CRMSupport
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension SystemTests {
    /// The HTTP port cannot be held open: idle and slow connections are closed, at most `CRM_HTTP_MAX_CONNECTIONS`
    /// are served at once, and it listens on loopback unless `CRM_HTTP_HOST` says otherwise.
    @Suite("HTTP limits", .serialized)
    struct HTTPLimitsTests {
        /// A TCP connection to `host:port`, or -1.
        static func connect(_ host: String = "127.0.0.1", port: Int) -> Int32 {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard socket >= 0 else { return -1 }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr(host)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else {
                close(socket)
                return -1
            }
            return socket
        }

        /// Whether the server has closed the connection (end of stream or reset), without waiting.
        static func isClosed(_ socket: Int32) -> Bool {
            var byte: UInt8 = 0
            let read = recv(socket, &byte, 1, Int32(MSG_DONTWAIT))
            return read == 0 || (read < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        }

        static func send(_ socket: Int32, _ text: String) {
            _ = text.withCString { Glibc.send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        }

        static func launch(_ environment: TestEnvironment, _ extra: [String: String]) async throws -> (Process, Int) {
            let port = TestPorts.unused()
            var variables = environment.serviceVariables
            variables["CRM_HTTP_PORT"] = "\(port)"
            variables.merge(extra) { $1 }
            let process = try Shell.launch("crm-intake", environment: variables)
            for _ in 0..<150 where Shell.get("http://127.0.0.1:\(port)/health/live").status != 200 {
                try await Task.sleep(for: .milliseconds(100))
            }
            return (process, port)
        }

        @Test func idleAndSlowConnectionsAreClosedAndTheirNumberIsCapped() async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                try await environment.declare(Topology.system(desks: []))
                let (process, port) = try await Self.launch(
                    environment,
                    ["CRM_HTTP_MAX_CONNECTIONS": "20", "CRM_HTTP_IDLE_TIMEOUT": "1s", "CRM_HTTP_HEADER_TIMEOUT": "3s"]
                )
                defer { if process.isRunning { process.terminate() } }
                #expect(Shell.get("http://127.0.0.1:\(port)/health/live").status == 200)
                // 220 idle connections: past the cap, they are closed as they are accepted.
                let idle = (0..<220).map { _ in Self.connect(port: port) }.filter { $0 >= 0 }
                defer { for socket in idle { close(socket) } }
                #expect(idle.count == 220)
                try await Task.sleep(for: .milliseconds(500))
                #expect(idle.filter(Self.isClosed).count >= 200, "the connection cap was not applied")
                // The rest, silent, go at the idle timeout.
                try await Task.sleep(for: .seconds(2))
                #expect(idle.allSatisfy(Self.isClosed), "\(idle.filter { !Self.isClosed($0) }.count) still open")

                // A slow client that keeps sending, never finishing its headers, goes at the header timeout.
                let slow = Self.connect(port: port)
                defer { close(slow) }
                Self.send(slow, "GET /health/live HTTP/1.1\r\n")
                var closedAfter: Duration?
                let start = ContinuousClock.now
                for index in 0..<16 {
                    try await Task.sleep(for: .milliseconds(400))
                    if Self.isClosed(slow) {
                        closedAfter = ContinuousClock.now - start
                        break
                    }
                    Self.send(slow, "X-\(index): y\r\n")
                }
                #expect(closedAfter != nil, "a slow client held its connection for 6 s")
                // And the port still serves.
                #expect(Shell.get("http://127.0.0.1:\(port)/health/live").status == 200)
            }
        }

        @Test func itListensOnLoopbackUnlessTold() async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                try await environment.declare(Topology.system(desks: []))
                let addresses = (try? Shell.run("hostname -I"))?.split(whereSeparator: \.isWhitespace).map(String.init)
                let outside = addresses?.first { $0.contains(".") && !$0.hasPrefix("127.") }
                let (loopback, port) = try await Self.launch(environment, [:])
                defer { if loopback.isRunning { loopback.terminate() } }
                #expect(Shell.get("http://127.0.0.1:\(port)/health/live").status == 200)
                let (everywhere, other) = try await Self.launch(environment, ["CRM_HTTP_HOST": "0.0.0.0"])
                defer { if everywhere.isRunning { everywhere.terminate() } }
                if let outside {
                    let refused = Self.connect(outside, port: port)
                    #expect(refused < 0, "the default listens on \(outside)")
                    if refused >= 0 { close(refused) }
                    #expect(Shell.get("http://\(outside):\(other)/health/live").status == 200)
                }
                let bad = try Shell.execute(
                    "crm-intake",
                    environment: environment.serviceVariables.merging(["CRM_HTTP_HOST": "bad host"]) { $1 }
                )
                #expect(bad.status == 2)
            }
        }
    }
}
