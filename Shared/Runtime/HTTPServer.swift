import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A minimal HTTP/1.1 server for health, metrics and read APIs, whose routes answer with text or stream a body of
/// any size (an export) in chunks.
///
/// Every response closes its connection, so graceful shutdown never waits on an idle keep-alive.
public final class HTTPServer: Service, Sendable {
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
                        try await send(response, to: head, on: outbound)
                        return
                    }
                }
            }
        } catch {
            logger.debug("HTTP connection failed", metadata: ["error": "\(error)"])
        }
    }

    /// Writes a response: a text body with its length, or a streamed body in chunks as its producer writes them
    /// (the writer waits while the client is slow to read). A producer that fails midway leaves the chunked body
    /// unterminated, so the client sees a truncated response rather than a short one that looks complete.
    private func send(
        _ response: Response,
        to head: HTTPRequestHead,
        on outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        if response.stream == nil { headers.add(name: "Content-Length", value: "\(response.body.utf8.count)") }
        headers.add(name: "Connection", value: "close")
        let status = HTTPResponseStatus(statusCode: response.status)
        try await outbound.write(.head(HTTPResponseHead(version: head.version, status: status, headers: headers)))
        if head.method != .HEAD {
            if let stream = response.stream {
                do {
                    try await stream(
                        BodyWriter { bytes in
                            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
                        }
                    )
                } catch {
                    logger.warning(
                        "HTTP response stream failed",
                        metadata: ["http.path": "\(head.uri.split(separator: "?").first ?? "")", "error": "\(error)"]
                    )
                    return
                }
            } else {
                try await outbound.write(.body(.byteBuffer(ByteBuffer(string: response.body))))
            }
        }
        try await outbound.write(.end(nil))
    }

    private func respond(to head: HTTPRequestHead) async -> Response {
        let request = Request(head)
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
