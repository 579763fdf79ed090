import Foundation
import Synchronization

/// HTTP ports for the services a test launches.
///
/// A port is drawn below the kernel's ephemeral range (32768 and up on Linux), where the tests' own client
/// connections to PostgreSQL and RabbitMQ take their local ports: a service told to listen on one of those fails to
/// bind and exits. Each port is checked free by binding it, and none is handed out twice in one test process.
public enum TestPorts {
    private static let given = Mutex<Set<Int>>([])

    /// A port on 127.0.0.1 that nothing holds right now.
    public static func unused() -> Int {
        while true {
            let port = Int.random(in: 20_000...32_000)
            guard given.withLock({ $0.insert(port).inserted }), isFree(port) else { continue }
            return port
        }
    }

    private static func isFree(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
