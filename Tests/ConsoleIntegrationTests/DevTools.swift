import CRMSupport
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization
import TestSupport

/// A headless Chromium driven over the Chrome DevTools protocol: JSON commands and events over one WebSocket.
///
/// The WebSocket is swift-nio's own (`NIOWebSocket`, already in the build): no TLS, no extra package, and the same
/// event loops as the services. Chromium is Debian's `chromium` (installed by scripts/servers.sh), started with a
/// fresh profile and `--remote-debugging-port=0`; the port it chose is read from `DevToolsActivePort`.
final class Browser: Sendable {
    private let process: Process
    private let profile: URL
    private let connection: DevToolsConnection

    /// Problems the pages reported: console errors, uncaught exceptions, failed loads, CSP violations, dialogs.
    var problems: [String] { connection.problems.withLock { $0 } }

    private init(process: Process, profile: URL, connection: DevToolsConnection) {
        self.process = process
        self.profile = profile
        self.connection = connection
    }

    /// Starts Chromium and runs `body` with a page of it; stops Chromium afterwards, whatever happens.
    static func with<T: Sendable>(downloads: URL, _ body: (Browser, BrowserPage) async throws -> T) async throws -> T {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("crm-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable())
        process.arguments = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--disable-sync", "--hide-scrollbars", "--mute-audio", "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1", "--user-data-dir=\(profile.path)", "--window-size=1360,900",
            "about:blank",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        func stop() {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            try? FileManager.default.removeItem(at: profile)
        }
        do {
            let endpoint = try await activePort(profile)
            let connection = try await DevToolsConnection.connect(port: endpoint.port, path: endpoint.path)
            let browser = Browser(process: process, profile: profile, connection: connection)
            let result = try await connection.run {
                _ = try await connection.send(
                    "Browser.setDownloadBehavior",
                    ["behavior": "allowAndName", "downloadPath": downloads.path, "eventsEnabled": true]
                )
                let target = try await connection.send("Target.createTarget", ["url": "about:blank"])
                let targetID = target["targetId"] as? String ?? ""
                let attached = try await connection.send(
                    "Target.attachToTarget",
                    ["targetId": targetID, "flatten": true]
                )
                let page = BrowserPage(connection: connection, session: attached["sessionId"] as? String ?? "")
                try await page.prepare()
                return try await body(browser, page)
            }
            stop()
            return result
        } catch {
            stop()
            throw error
        }
    }

    /// Waits for a download to finish; returns the file (named by its GUID in the download directory).
    func download(in directory: URL, timeout: Duration = .seconds(60)) async throws -> URL {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let guid = connection.completedDownloads.withLock({ $0.first }) {
                return directory.appendingPathComponent(guid)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSetupError("no download completed within \(timeout)")
    }

    private static func executable() throws -> String {
        for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw TestSetupError("no chromium: run scripts/servers.sh, which installs Debian's chromium")
    }

    private static func activePort(_ profile: URL) async throws -> (port: Int, path: String) {
        let file = profile.appendingPathComponent("DevToolsActivePort")
        for _ in 0..<1200 {
            if let text = try? String(contentsOf: file, encoding: .utf8) {
                let lines = text.split(separator: "\n").map(String.init)
                if lines.count >= 2, let port = Int(lines[0]) { return (port, lines[1]) }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSetupError("chromium did not open its DevTools port")
    }
}

/// One tab, attached in flat mode: its commands carry its session id.
struct BrowserPage: Sendable {
    let connection: DevToolsConnection
    let session: String

    func send(_ method: String, _ parameters: [String: Any] = [:]) async throws -> [String: Any] {
        try await connection.send(method, parameters, session: session)
    }

    func prepare() async throws {
        _ = try await send("Page.enable")
        _ = try await send("Runtime.enable")
        _ = try await send("Log.enable")
        _ = try await send(
            "Emulation.setDeviceMetricsOverride",
            ["width": 1360, "height": 900, "deviceScaleFactor": 1, "mobile": false]
        )
    }

    /// Opens `url` and waits until the document is complete.
    func open(_ url: String) async throws {
        _ = try await send("Page.navigate", ["url": url])
        try await waitUntilLoaded()
    }

    /// Waits until the current document (after a navigation or a form's submission) is complete.
    func waitUntilLoaded(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        try await Task.sleep(for: .milliseconds(50))
        while ContinuousClock.now < deadline {
            if let state = try? await evaluate("document.readyState") as? String, state == "complete" { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSetupError("the page did not finish loading")
    }

    /// The value of a JavaScript expression (run by DevTools, which the page's CSP does not govern).
    func evaluate(_ expression: String) async throws -> Any? {
        let result = try await send("Runtime.evaluate", ["expression": expression, "returnByValue": true])
        if let exception = result["exceptionDetails"] as? [String: Any] {
            throw TestSetupError("the expression failed: \(exception["text"] ?? exception)")
        }
        return (result["result"] as? [String: Any])?["value"]
    }

    /// A PNG of the whole page, as wide as the window.
    func screenshot() async throws -> Data {
        let metrics = try await send("Page.getLayoutMetrics")
        let size = metrics["cssContentSize"] as? [String: Any] ?? [:]
        let height = min((size["height"] as? Double) ?? 900, 6000)
        let result = try await send(
            "Page.captureScreenshot",
            [
                "format": "png", "captureBeyondViewport": true,
                "clip": ["x": 0, "y": 0, "width": 1360, "height": height, "scale": 1],
            ]
        )
        guard let data = Data(base64Encoded: result["data"] as? String ?? "") else {
            throw TestSetupError("no screenshot")
        }
        return data
    }
}

/// The protocol over the WebSocket: numbered commands answered by id, events recorded as they come.
final class DevToolsConnection: Sendable {
    private let channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>
    /// Commands waiting for their answer, and answers that came before their command started waiting.
    private let pending = Mutex<(waiting: [Int: CheckedContinuation<Data, any Error>], arrived: [Int: Data])>(
        ([:], [:])
    )
    private let nextID = Mutex(1)
    private let outbound = Mutex<NIOAsyncChannelOutboundWriter<WebSocketFrame>?>(nil)
    let problems = Mutex<[String]>([])
    let completedDownloads = Mutex<[String]>([])

    private init(channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>) {
        self.channel = channel
    }

    private enum Upgrade {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case refused
    }

    static func connect(port: Int, path: String) async throws -> DevToolsConnection {
        let upgrade: EventLoopFuture<Upgrade> = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(
                        maxFrameSize: 1 << 27,
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                .websocket(
                                    try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                                        wrappingChannelSynchronously: channel
                                    )
                                )
                            }
                        }
                    )
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: "127.0.0.1:\(port)")
                    headers.add(name: "Content-Length", value: "0")
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration<Upgrade>(
                        upgradeRequestHead: HTTPRequestHead(
                            version: .http1_1,
                            method: .GET,
                            uri: path,
                            headers: headers
                        ),
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in channel.eventLoop.makeSucceededFuture(.refused) }
                    )
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: .init(upgradeConfiguration: configuration)
                    )
                }
            }
        switch try await upgrade.get() {
        case .websocket(let channel): return DevToolsConnection(channel: channel)
        case .refused: throw TestSetupError("chromium refused the DevTools WebSocket")
        }
    }

    /// Reads frames while `body` sends commands; closes the socket when `body` is done.
    func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await channel.executeThenClose { inbound, outbound in
            self.outbound.withLock { $0 = outbound }
            return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
                group.addTask { try await self.read(inbound) }
                defer { group.cancelAll() }
                let result = try await body()
                self.outbound.withLock { $0 = nil }
                return result
            }
        }
    }

    private func read(_ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>) async throws {
        var message = ByteBuffer()
        do {
            for try await frame in inbound {
                switch frame.opcode {
                case .text, .continuation:
                    var data = frame.unmaskedData
                    message.writeBuffer(&data)
                    guard frame.fin else { continue }
                    let bytes = Data(message.readableBytesView)
                    message.clear()
                    handle(bytes)
                case .connectionClose:
                    failAll(TestSetupError("chromium closed the DevTools connection"))
                    return
                default: continue
                }
            }
        } catch {
            failAll(error)
            throw error
        }
        failAll(TestSetupError("the DevTools connection ended"))
    }

    private func failAll(_ error: any Error) {
        let waiting = pending.withLock { pending in
            defer { pending.waiting.removeAll() }
            return Array(pending.waiting.values)
        }
        for continuation in waiting { continuation.resume(throwing: error) }
    }

    private func handle(_ bytes: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any] else { return }
        if let id = object["id"] as? Int {
            let continuation = pending.withLock { pending in
                guard let waiting = pending.waiting.removeValue(forKey: id) else {
                    pending.arrived[id] = bytes
                    return nil as CheckedContinuation<Data, any Error>?
                }
                return waiting
            }
            continuation?.resume(returning: bytes)
            return
        }
        let parameters = object["params"] as? [String: Any] ?? [:]
        switch object["method"] as? String {
        case "Runtime.exceptionThrown":
            let details = parameters["exceptionDetails"] as? [String: Any] ?? [:]
            record("exception: \((details["exception"] as? [String: Any])?["description"] ?? details["text"] ?? "?")")
        case "Runtime.consoleAPICalled":
            let type = parameters["type"] as? String ?? ""
            if type == "error" || type == "assert" {
                let arguments = (parameters["args"] as? [[String: Any]] ?? []).map {
                    "\($0["value"] ?? $0["description"] ?? "")"
                }
                record("console.\(type): \(arguments.joined(separator: " "))")
            }
        case "Log.entryAdded":
            let entry = parameters["entry"] as? [String: Any] ?? [:]
            if entry["level"] as? String == "error" {
                record("log: \(entry["text"] ?? "") \(entry["url"] ?? "")")
            }
        case "Page.javascriptDialogOpening":
            record("dialog: \(parameters["message"] ?? "")")
        case "Browser.downloadProgress":
            if parameters["state"] as? String == "completed", let guid = parameters["guid"] as? String {
                completedDownloads.withLock { $0.append(guid) }
            }
        default: break
        }
    }

    private func record(_ problem: String) {
        problems.withLock { $0.append(problem) }
    }

    /// Sends a command and waits for its answer.
    func send(_ method: String, _ parameters: [String: Any] = [:], session: String? = nil) async throws -> [String: Any]
    {
        let id = nextID.withLock { id in
            defer { id += 1 }
            return id
        }
        var message: [String: Any] = ["id": id, "method": method, "params": parameters]
        if let session { message["sessionId"] = session }
        let data = try JSONSerialization.data(withJSONObject: message)
        guard let writer = outbound.withLock({ $0 }) else { throw TestSetupError("DevTools connection not open") }
        try await writer.write(
            WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(bytes: data))
        )
        let answer = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Data, any Error>) in
            let early = pending.withLock { pending in
                guard let arrived = pending.arrived.removeValue(forKey: id) else {
                    pending.waiting[id] = continuation
                    return nil as Data?
                }
                return arrived
            }
            if let early { continuation.resume(returning: early) }
        }
        let object = try JSONSerialization.jsonObject(with: answer) as? [String: Any] ?? [:]
        if let error = object["error"] as? [String: Any] {
            throw TestSetupError("DevTools \(method): \(error["message"] ?? error)")
        }
        return object["result"] as? [String: Any] ?? [:]
    }
}
