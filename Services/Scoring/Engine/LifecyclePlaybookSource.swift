import CRMSupport
import Foundation
import Logging

/// The lifecycle playbook from its file (`CRM_LIFECYCLE_PLAYBOOK_FILE`), reread when the operators edit it (looked at
/// every 5 seconds at most, as scorings ask for it), or the one built in.
public typealias LifecyclePlaybookSource = ReloadingFile<LifecyclePlaybook>

extension ReloadingFile where Value == LifecyclePlaybook {
    /// Reads and validates the file; throws ``ScoringRulesError`` naming the file and the problem.
    public convenience init(path: String, checkInterval: Duration = .seconds(5), logger: Logger) throws {
        try self.init(path: path, name: "Lifecycle playbook", checkInterval: checkInterval, logger: logger) { path in
            let data = try Self.contents(of: path) {
                ScoringRulesError(code: .invalidSettings, context: "cannot read the lifecycle playbook \(path)")
            }
            do {
                return try LifecyclePlaybook(json: data)
            } catch let error as ScoringRulesError {
                throw ScoringRulesError(code: error.code, context: "\(path): \(error.context)")
            }
        }
    }

    /// A fixed playbook: the one built in, or one of a test or benchmark.
    public convenience init(playbook: LifecyclePlaybook = .builtIn, logger: Logger) {
        self.init(fixed: playbook, name: "Lifecycle playbook", logger: logger)
    }
}
