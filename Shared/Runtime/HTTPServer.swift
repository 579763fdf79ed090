import CRMSupport
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
/// Every response closes its connection, so graceful shutdown never waits on an idle keep-alive. A connection that
/// sends nothing for ``Limits/idleTimeout``, or has not sent its whole request within ``Limits/headerTimeout``, is
/// closed; so is a response the client stops reading for ``Limits/stalledResponse`` (a streamed export of any length
/// flows as long as the client reads it). Past ``Limits/maximumConnections`` open at once,
/// a new connection is closed as it is accepted, so no number of idle clients can exhaust the process.
public final class HTTPServer: Service, Sendable {
    /// How long and how many connections may stay open.
    public struct Limits: Sendable, Equatable {
        /// Longest silence while a request is awaited (`CRM_HTTP_IDLE_TIMEOUT`, default 5s).
        public var idleTimeout: Duration
        /// Longest time from accepting a connection to its complete request (`CRM_HTTP_HEADER_TIMEOUT`, default 10s).
        public var headerTimeout: Duration
        /// Longest time a response may wait on a client that reads none of it (60s).
        public var stalledResponse: Duration
        /// Most connections open at once (`CRM_HTTP_MAX_CONNECTIONS`, default 64).
        public var maximumConnections: Int

        public init(
            idleTimeout: Duration = .seconds(5),
            headerTimeout: Duration = .seconds(10),
            stalledResponse: Duration = .seconds(60),
            maximumConnections: Int = 64
        ) {
            self.idleTimeout = idleTimeout
            self.headerTimeout = headerTimeout
            self.stalledResponse = stalledResponse
            self.maximumConnections = maximumConnections
        }
    }

    /// Answers a request, or returns `nil` to let the next route try.
    public typealias Route = @Sendable (Request) async -> Response?

    private let host: String
    private let port: Int
    private let routes: [Route]
    private let limits: Limits
    private let logger: Logger
    private let bound = Mutex<Int?>(nil)
    /// Connections open now.
    private let open = Atomic<Int>(0)

    /// A server on `host` (`CRM_HTTP_HOST`; all interfaces with `0.0.0.0`) and `port` (0 for any free one).
    public init(host: String = "127.0.0.1", port: Int, routes: [Route], limits: Limits = Limits(), logger: Logger) {
        self.host = host
        self.port = port
        self.routes = routes
        self.limits = limits
        self.logger = logger
    }

    /// The port actually bound (useful with port 0), once listening.
    public var boundPort: Int? { bound.withLock { $0 } }

    /// Connections open now.
    public var openConnections: Int { open.load(ordering: .relaxed) }

    public func run() async throws {
        let limits = limits
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let count = open.wrappingAdd(1, ordering: .relaxed).newValue
                    channel.closeFuture.whenComplete { [self] _ in open.wrappingSubtract(1, ordering: .relaxed) }
                    if count > limits.maximumConnections {
                        channel.close(promise: nil)
                    } else {
                        try channel.pipeline.syncOperations.addHandler(
                            IdleStateHandler(
                                readTimeout: TimeAmount(limits.idleTimeout),
                                writeTimeout: TimeAmount(limits.stalledResponse)
                            )
                        )
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(RequestDeadlines(limits: limits))
                    }
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel
                    )
                }
            }
        let actualPort = server.channel.localAddress?.port ?? port
        bound.withLock { $0 = actualPort }
        logger.info("HTTP listening", metadata: ["http.host": "\(host)", "http.port": "\(actualPort)"])
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

/// Closes a connection whose request does not arrive in time: silent for the idle timeout (the `IdleStateHandler`
/// before the HTTP decoder reports it) or incomplete at the header timeout, and a response whose writes have not
/// completed for the stalled-response limit (the client stopped reading).
final class RequestDeadlines: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let limits: HTTPServer.Limits
    private var requestComplete = false
    private var timers: [Scheduled<Void>] = []

    init(limits: HTTPServer.Limits) {
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        timers = [
            context.eventLoop.scheduleTask(in: TimeAmount(limits.headerTimeout)) {
                if !handler.value.requestComplete { channel.close(promise: nil) }
            }
        ]
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        for timer in timers { timer.cancel() }
        timers = []
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) { requestComplete = true }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event as? IdleStateHandler.IdleStateEvent {
        case .read where !requestComplete, .write:
            context.close(promise: nil)
            return
        default: break
        }
        context.fireUserInboundEventTriggered(event)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
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
