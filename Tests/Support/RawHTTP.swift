import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// HTTP/1.1 over a socket of its own, read to the end (`Connection: close`): what a browser's request costs, with
/// nothing of a client library's own in the figure.
public enum RawHTTP {
    public struct Failure: Error {}

    public struct Answer: Sendable {
        public var status: Int
        public var head: String
        public var body: Data

        public func cookie(_ name: String) -> String? {
            for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("set-cookie: \(name)=") {
                return String(line.dropFirst("set-cookie: \(name)=".count).prefix { $0 != ";" })
            }
            return nil
        }
    }

    public static func send(
        port: Int,
        _ requestLine: String,
        headers: [String] = [],
        body: String = ""
    ) throws -> Answer {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure() }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure() }
        var text = "\(requestLine) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for header in headers { text += header + "\r\n" }
        if !body.isEmpty { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + body
        let request = Array(text.utf8)
        guard request.withUnsafeBytes({ Glibc.send(socket, $0.baseAddress, $0.count, 0) }) == request.count else {
            throw Failure()
        }
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            response.append(contentsOf: buffer[0..<count])
        }
        guard let end = response.firstRange(of: Data("\r\n\r\n".utf8)) else { throw Failure() }
        let head = String(decoding: response[..<end.lowerBound], as: UTF8.self)
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        var content = Data(response[end.upperBound...])
        if head.lowercased().contains("transfer-encoding: chunked") { content = dechunk(content) }
        return Answer(status: status, head: head, body: content)
    }

    /// `GET path`: the status and the body.
    public static func get(port: Int, path: String) throws -> (status: Int, body: Data) {
        let answer = try send(port: port, "GET \(path)")
        return (answer.status, answer.body)
    }

    /// The body of a chunked response.
    public static func dechunk(_ data: Data) -> Data {
        var result = Data()
        var index = data.startIndex
        while index < data.endIndex {
            guard let lineEnd = data[index...].firstRange(of: Data("\r\n".utf8)) else { break }
            let size = Int(String(decoding: data[index..<lineEnd.lowerBound], as: UTF8.self), radix: 16) ?? 0
            if size == 0 { break }
            let start = lineEnd.upperBound
            let end = min(start + size, data.endIndex)
            result.append(data[start..<end])
            index = min(end + 2, data.endIndex)
        }
        return result
    }
}
