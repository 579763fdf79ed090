import Foundation
import Logging
import Synchronization

/// The lifecycle playbook from its file (`CRM_LIFECYCLE_PLAYBOOK_FILE`), reread when the operators edit it, or the
/// one built in.
///
/// The file is read at start-up (a missing or invalid file stops the service). Afterwards ``current`` looks at the
/// file's modification time at most once every ``checkInterval`` and rereads it when it changed; an invalid edit is
/// logged once and the playbook in use stays.
public final class LifecyclePlaybookSource: Sendable {
    private struct Loaded {
        var playbook: LifecyclePlaybook
        var modified: Date?
        var checked: ContinuousClock.Instant
    }

    /// The file; empty for a fixed playbook.
    public let path: String
    /// How often the file's modification time is looked at, at most.
    public let checkInterval: Duration
    private let loaded: Mutex<Loaded>
    private let logger: Logger

    /// Reads and validates the file; throws naming the file and the problem.
    public init(path: String, checkInterval: Duration = .seconds(5), logger: Logger) throws {
        self.path = path
        self.checkInterval = checkInterval
        self.logger = logger
        let (playbook, modified) = try Self.read(path)
        loaded = Mutex(Loaded(playbook: playbook, modified: modified, checked: .now))
    }

    /// A fixed playbook: the one built in, or one of a test or benchmark.
    public init(playbook: LifecyclePlaybook = .builtIn, logger: Logger) {
        path = ""
        checkInterval = .seconds(5)
        self.logger = logger
        loaded = Mutex(Loaded(playbook: playbook, modified: nil, checked: .now))
    }

    /// The playbook in use, reread first when the file changed.
    public var current: LifecyclePlaybook {
        if !path.isEmpty {
            let due = loaded.withLock { state in
                guard ContinuousClock.now - state.checked >= checkInterval else { return false }
                state.checked = .now
                return true
            }
            if due { reloadIfChanged() }
        }
        return loaded.withLock { $0.playbook }
    }

    /// Rereads the file if it changed since the last read; returns true when a new playbook is in use.
    @discardableResult
    public func reloadIfChanged() -> Bool {
        guard !path.isEmpty else { return false }
        let modified = Self.modificationDate(path)
        guard modified != loaded.withLock({ $0.modified }) else { return false }
        do {
            let (playbook, stamp) = try Self.read(path)
            loaded.withLock {
                $0.playbook = playbook
                $0.modified = stamp
            }
            logger.notice("Lifecycle playbook reloaded", metadata: ["playbook.file": "\(path)"])
            return true
        } catch {
            // Remember the bad version so it is reported once, not on every check.
            loaded.withLock { $0.modified = modified }
            logger.error(
                "Lifecycle playbook edit refused; the previous playbook stays in use",
                metadata: ["playbook.file": "\(path)", "error": "\(error)"]
            )
            return false
        }
    }

    private static func read(_ path: String) throws -> (LifecyclePlaybook, Date?) {
        let modified = modificationDate(path)
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ScoringRulesError(code: .invalidSettings, context: "cannot read the lifecycle playbook \(path)")
        }
        do {
            return (try LifecyclePlaybook(json: data), modified)
        } catch let error as ScoringRulesError {
            throw ScoringRulesError(code: error.code, context: "\(path): \(error.context)")
        }
    }

    private static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}
