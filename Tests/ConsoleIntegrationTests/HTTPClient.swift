import CRMContract
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import TestSupport

/// A plain HTTP/1.1 client for the console's tests: one request per connection, redirects not followed, every
/// header of the answer kept (`Set-Cookie` included).
struct HTTPAnswer: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: String

    func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    func headers(_ name: String) -> [String] {
        headers.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    /// The value a `Set-Cookie` gives the cookie `name`, and the whole header.
    func cookie(_ name: String) -> (value: String, header: String)? {
        for header in headers("Set-Cookie") where header.hasPrefix(name + "=") {
            let value = header.dropFirst(name.count + 1).prefix { $0 != ";" }
            return (String(value), header)
        }
        return nil
    }
}

enum HTTPClient {
    static func request(
        _ method: HTTPMethod = .GET,
        port: Int,
        _ path: String,
        headers extra: [(String, String)] = [],
        form: [(String, String)]? = nil
    ) async throws -> HTTPAnswer {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel
                    )
                }
            }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "127.0.0.1:\(port)")
        headers.add(name: "Connection", value: "close")
        for (name, value) in extra { headers.add(name: name, value: value) }
        var body: ByteBuffer?
        if let form {
            let encoded = form.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
            body = ByteBuffer(string: encoded)
            headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            headers.add(name: "Content-Length", value: "\(encoded.utf8.count)")
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(
                .head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers))
            )
            if let body { try await outbound.write(.body(.byteBuffer(body))) }
            try await outbound.write(.end(nil))
            var answer = HTTPAnswer(status: 0, headers: [], body: "")
            var bytes = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let head):
                    answer.status = Int(head.status.code)
                    answer.headers = head.headers.map { ($0.name, $0.value) }
                case .body(var buffer): bytes.writeBuffer(&buffer)
                case .end:
                    answer.body = String(buffer: bytes)
                    return answer
                }
            }
            answer.body = String(buffer: bytes)
            return answer
        }
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
