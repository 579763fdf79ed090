import Foundation
import Logging
import Synchronization

/// A value read from an operators' file (a playbook) and read again when they edit it.
///
/// The file is read at start-up: a missing or invalid file throws, which stops the service. Afterwards
/// ``reloadIfChanged()`` rereads it when its modification time changed, and ``current`` does so itself at most once
/// every `checkInterval` when one is set; an invalid edit is logged once and the value in use stays.
public final class ReloadingFile<Value: Sendable>: Sendable {
    private struct Loaded {
        var value: Value
        var modified: Date?
        var checked: ContinuousClock.Instant
    }

    /// The file; empty for a fixed value.
    public let path: String
    /// How often ``current`` looks at the file's modification time, at most; nil when only ``reloadIfChanged()`` does.
    public let checkInterval: Duration?
    /// What the file holds, in log lines: "Lifecycle playbook".
    private let name: String
    private let read: @Sendable (_ path: String) throws -> Value
    private let loaded: Mutex<Loaded>
    private let logger: Logger

    /// Reads the file with `read`, which throws naming the file and the problem.
    public init(
        path: String,
        name: String,
        checkInterval: Duration? = nil,
        logger: Logger,
        read: @escaping @Sendable (_ path: String) throws -> Value
    ) throws {
        self.path = path
        self.name = name
        self.checkInterval = checkInterval
        self.logger = logger
        self.read = read
        let modified = Self.modificationDate(path)
        loaded = Mutex(Loaded(value: try read(path), modified: modified, checked: .now))
    }

    /// A fixed value, never reread: the one built in, or one of a test or benchmark.
    public init(fixed value: Value, name: String, logger: Logger) {
        path = ""
        self.name = name
        checkInterval = nil
        self.logger = logger
        read = { _ in value }
        loaded = Mutex(Loaded(value: value, modified: nil, checked: .now))
    }

    /// The value in use; with a `checkInterval`, reread first when the file changed.
    public var current: Value {
        if let checkInterval, !path.isEmpty {
            let due = loaded.withLock { state in
                guard ContinuousClock.now - state.checked >= checkInterval else { return false }
                state.checked = .now
                return true
            }
            if due { reloadIfChanged() }
        }
        return loaded.withLock { $0.value }
    }

    /// Rereads the file if it changed since the last read; returns true when a new value is in use.
    @discardableResult
    public func reloadIfChanged() -> Bool {
        guard !path.isEmpty else { return false }
        let modified = Self.modificationDate(path)
        guard modified != loaded.withLock({ $0.modified }) else { return false }
        do {
            let value = try read(path)
            loaded.withLock {
                $0.value = value
                $0.modified = modified
            }
            logger.notice("\(name) reloaded", metadata: ["playbook.file": "\(path)"])
            return true
        } catch {
            // Remember the bad version so it is reported once, not on every check.
            loaded.withLock { $0.modified = modified }
            logger.error(
                "\(name) edit refused; the previous one stays in use",
                metadata: ["playbook.file": "\(path)", "error": "\(error)"]
            )
            return false
        }
    }

    /// The file's contents, or `unreadable` when it cannot be read.
    public static func contents(of path: String, unreadable: () -> any Error) throws -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw unreadable()
        }
    }

    private static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}
