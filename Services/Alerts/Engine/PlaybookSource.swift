import Foundation
import Logging
import Synchronization

/// The retention playbook from its file, reread when the operators edit it.
///
/// The file is read at start-up (a missing or invalid file stops the service). Afterwards ``reloadIfChanged()``
/// rereads it when its modification time changes; an invalid edit is logged and the playbook in use stays.
public final class PlaybookSource: Sendable {
    private struct Loaded {
        var playbook: RetentionPlaybook
        var modified: Date?
    }

    /// The file (`CRM_RETENTION_PLAYBOOK_FILE`).
    public let path: String
    private let loaded: Mutex<Loaded>
    private let logger: Logger

    /// Reads and validates the file; throws ``AlertsError`` naming the file and the problem.
    public init(path: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        let (playbook, modified) = try Self.read(path)
        loaded = Mutex(Loaded(playbook: playbook, modified: modified))
    }

    /// A fixed playbook: the one built in (``DefaultRetentionPlaybook``), or one of a test or benchmark.
    public init(playbook: RetentionPlaybook, logger: Logger) {
        path = ""
        self.logger = logger
        loaded = Mutex(Loaded(playbook: playbook, modified: nil))
    }

    /// The playbook in use.
    public var current: RetentionPlaybook {
        loaded.withLock { $0.playbook }
    }

    /// Rereads the file if it changed since the last read; returns true when a new playbook is in use.
    @discardableResult
    public func reloadIfChanged() -> Bool {
        guard !path.isEmpty else { return false }
        let modified = Self.modificationDate(path)
        guard modified != loaded.withLock({ $0.modified }) else { return false }
        do {
            let (playbook, stamp) = try Self.read(path)
            loaded.withLock { $0 = Loaded(playbook: playbook, modified: stamp) }
            logger.notice("Retention playbook reloaded", metadata: ["playbook.file": "\(path)"])
            return true
        } catch {
            // Remember the bad version so it is reported once, not on every tick.
            loaded.withLock { $0.modified = modified }
            logger.error(
                "Retention playbook edit refused; the previous playbook stays in use",
                metadata: ["playbook.file": "\(path)", "error": "\(error)"]
            )
            return false
        }
    }

    private static func read(_ path: String) throws -> (RetentionPlaybook, Date?) {
        let modified = modificationDate(path)
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw AlertsError(.unreadablePlaybook, "cannot read \(path)")
        }
        do {
            return (try RetentionPlaybook(json: data), modified)
        } catch {
            throw AlertsError(.unreadablePlaybook, "\(path): \(error)")
        }
    }

    private static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}
