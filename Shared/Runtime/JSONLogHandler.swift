import CRMSupport
import Foundation
import Logging
import Synchronization

/// Writes each log record as one JSON object on one line, for log shippers.
///
/// Fields: `ts` (RFC 3339, UTC, milliseconds), `level`, `logger`, `msg`, then the metadata with
/// dotted keys (`order.id`). Values go into metadata, never into the message text.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let sink: LogSink

    public init(label: String, level: Logger.Level, sink: LogSink = .standardOutput) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: Any] = [
            "ts": Self.timestamp(Date()),
            "level": event.level.rawValue,
            "logger": label,
            "msg": event.message.description,
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for (key, value) in merged where fields[key] == nil { fields[key] = Self.json(value) }
        if event.level >= .error {
            fields["source"] = "\(event.file.split(separator: "/").last ?? ""):\(event.line)"
        }
        guard
            var line = try? JSONSerialization.data(
                withJSONObject: fields,
                options: [.sortedKeys, .withoutEscapingSlashes]
            )
        else { return }
        line.append(10)
        sink.write(line)
    }

    private static func json(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let items): items.map(json)
        case .dictionary(let dictionary): dictionary.mapValues(json)
        }
    }

    static func timestamp(_ date: Date) -> String {
        let text = UTCDateTime.format(date)
        // Microseconds are noise in logs; keep milliseconds.
        return String(text.prefix(23)) + "Z"
    }
}

/// Where JSON log lines go: standard output by default, or memory in tests.
public final class LogSink: Sendable {
    private let capturing: Bool
    private let lines = Mutex<[Data]>([])
    private let lock = Mutex(())

    private init(capturing: Bool) {
        self.capturing = capturing
    }

    /// Standard output, one line per write.
    public static let standardOutput = LogSink(capturing: false)

    /// A sink that keeps lines in memory.
    public static func memory() -> LogSink { LogSink(capturing: true) }

    func write(_ line: Data) {
        if capturing {
            lines.withLock { $0.append(line) }
            return
        }
        lock.withLock { _ in
            line.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Foundation.write(STDOUT_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                    guard written > 0 else { return }
                    offset += written
                }
            }
        }
    }

    /// The captured lines as text (memory sinks only).
    public var capturedLines: [String] {
        lines.withLock { $0.map { String(decoding: $0, as: UTF8.self) } }
    }
}
