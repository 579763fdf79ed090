import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A minimal HTTP/1.1 server for health, metrics and small read APIs.
///
/// Every response closes its connection, so graceful shutdown never waits on an idle keep-alive.
public final class HTTPServer: Service, Sendable {
    /// A request as the routes see it.
    public struct Request: Sendable {
        public var method: String
        /// The path without its query string, percent-decoded.
        public var path: String
        public var query: [String: String]
    }

    /// A response with a text body.
    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        public var body: String

        public init(status: Int = 200, contentType: String = "text/plain; charset=utf-8", body: String) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }

        /// A JSON response.
        public static func json(_ body: String, status: Int = 200) -> Response {
            Response(status: status, contentType: "application/json", body: body)
        }

        static let notFound = Response(status: 404, body: "not found\n")
    }

    /// Answers a request, or returns `nil` to let the next route try.
    public typealias Route = @Sendable (Request) async -> Response?

    private let host: String
    private let port: Int
    private let routes: [Route]
    private let logger: Logger
    private let bound = Mutex<Int?>(nil)

    public init(host: String = "0.0.0.0", port: Int, routes: [Route], logger: Logger) {
        self.host = host
        self.port = port
        self.routes = routes
        self.logger = logger
    }

    /// The port actually bound (useful with port 0), once listening.
    public var boundPort: Int? { bound.withLock { $0 } }

    public func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel
                    )
                }
            }
        let actualPort = server.channel.localAddress?.port ?? port
        bound.withLock { $0 = actualPort }
        logger.info("HTTP listening", metadata: ["http.port": "\(actualPort)"])
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead): head = requestHead
                    case .body: continue
                    case .end:
                        guard let head else { return }
                        let response = await respond(to: head)
                        var headers = HTTPHeaders()
                        headers.add(name: "Content-Type", value: response.contentType)
                        headers.add(name: "Content-Length", value: "\(response.body.utf8.count)")
                        headers.add(name: "Connection", value: "close")
                        let status = HTTPResponseStatus(statusCode: response.status)
                        try await outbound.write(
                            .head(HTTPResponseHead(version: head.version, status: status, headers: headers))
                        )
                        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: response.body))))
                        try await outbound.write(.end(nil))
                        return
                    }
                }
            }
        } catch {
            logger.debug("HTTP connection failed", metadata: ["error": "\(error)"])
        }
    }

    private func respond(to head: HTTPRequestHead) async -> Response {
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let rawPath = String(parts.first ?? "/")
        var query: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let keyValue = pair.split(separator: "=", maxSplits: 1)
                let key = String(keyValue[0]).removingPercentEncoding ?? String(keyValue[0])
                query[key] = keyValue.count > 1 ? (String(keyValue[1]).removingPercentEncoding ?? "") : ""
            }
        }
        let request = Request(
            method: head.method.rawValue,
            path: rawPath.removingPercentEncoding ?? rawPath,
            query: query
        )
        guard request.method == "GET" || request.method == "HEAD" else {
            return Response(status: 405, body: "only GET is served\n")
        }
        for route in routes {
            if let response = await route(request) { return response }
        }
        return .notFound
    }
}

extension HTTPServer {
    /// A route answering exactly one path.
    public static func route(
        _ path: String,
        _ answer: @escaping @Sendable () async -> HTTPServer.Response
    )
        -> HTTPServer.Route
    {
        { request in request.path == path ? await answer() : nil }
    }
}
