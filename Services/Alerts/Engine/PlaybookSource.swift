import CRMSupport
import Foundation
import Logging

/// The retention playbook from its file (`CRM_RETENTION_PLAYBOOK_FILE`), reread when the operators edit it (the alert
/// sweep calls ``ReloadingFile/reloadIfChanged()`` on every tick), or a fixed one.
public typealias PlaybookSource = ReloadingFile<RetentionPlaybook>

extension ReloadingFile where Value == RetentionPlaybook {
    /// Reads and validates the file; throws ``AlertsError`` naming the file and the problem.
    public convenience init(path: String, logger: Logger) throws {
        try self.init(path: path, name: "Retention playbook", logger: logger) { path in
            let data = try Self.contents(of: path) { AlertsError(.unreadablePlaybook, "cannot read \(path)") }
            do {
                return try RetentionPlaybook(json: data)
            } catch {
                throw AlertsError(.unreadablePlaybook, "\(path): \(error)")
            }
        }
    }

    /// A fixed playbook: the one built in (``DefaultRetentionPlaybook``), or one of a test or benchmark.
    public convenience init(playbook: RetentionPlaybook, logger: Logger) {
        self.init(fixed: playbook, name: "Retention playbook", logger: logger)
    }
}
