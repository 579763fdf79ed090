import CRMPostgres
import CRMSupport
import Foundation
import Synchronization

/// The compiled rules in force, shared by the consumers and the sweeper, swapped whole when operators load
/// a new version. Readers take one snapshot per batch, so a batch is decided by one version throughout.
public final class ComplaintPolicyHolder: Sendable {
    /// A compiled version of the rules.
    public struct Current: Sendable {
        /// The `complaint_rules` version it was compiled from.
        public let version: Int
        /// The compiled rules, with this process's overrides applied.
        public let policy: ComplaintPolicy

        /// Wraps a compiled version.
        public init(version: Int, policy: ComplaintPolicy) {
            self.version = version
            self.policy = policy
        }
    }

    private let state: Mutex<Current>

    /// Starts with `current` in force.
    public init(_ current: Current) {
        state = Mutex(current)
    }

    /// The version in force now.
    public var current: Current {
        state.withLock { $0 }
    }

    /// Puts a newer version in force; an older or equal one is ignored.
    func replace(with newer: Current) {
        state.withLock { current in
            if newer.version > current.version { current = newer }
        }
    }

    /// Compiles a stored document with the process's overrides (SLA targets, escalation ceiling).
    public static func compile(
        _ stored: ComplaintRulesStore.StoredRules,
        configuration: ComplaintsConfiguration
    ) throws(ComplaintConfigurationError) -> Current {
        let rules = try ComplaintRules.decode(from: Data(stored.document.utf8))
        return Current(
            version: stored.version,
            policy: try ComplaintPolicy(rules: configuration.applyingOverrides(to: rules))
        )
    }

    /// Loads the rules in force at start-up, seeding the database from the default file when it has none.
    ///
    /// Database outages are retried for a minute; a default file that is missing or invalid when the database
    /// has no rules, or stored rules that no longer compile, stop the service.
    public static func load(
        pool: PostgresPool,
        configuration: ComplaintsConfiguration
    ) async throws
        -> ComplaintPolicyHolder
    {
        let seed: (text: String, source: String)? =
            try await pool.retryingTransaction { connection in
                try connection.query("SELECT 1 FROM complaint_rules LIMIT 1").isEmpty
            } ? ComplaintRulesStore.defaultRules(file: configuration.rulesFile) : nil
        let stored = try await pool.retryingTransaction { connection in
            if let seed {
                try ComplaintRulesStore.seed(seed.text, source: seed.source, on: connection)
            }
            return try ComplaintRulesStore.newest(on: connection)
        }
        guard let stored else {
            throw RulesFileError(
                path: configuration.rulesFile ?? DefaultComplaintRules.source,
                problem: "was not stored: no rules in the database"
            )
        }
        return ComplaintPolicyHolder(try compile(stored, configuration: configuration))
    }
}
