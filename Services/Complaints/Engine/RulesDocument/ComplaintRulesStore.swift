import CRMPostgres
import CRMSupport
import Foundation

/// The complaint rules documents kept in `complaint_rules`: every version ever loaded, the highest in force.
///
/// Operators load a new version with `crm rules load FILE`; the service picks it up without a rebuild or restart.
/// An empty table is seeded from the default file (`CRM_COMPLAINT_RULES_FILE`) on the service's first start.
/// Only documents that `ComplaintPolicy` accepts are ever stored.
public enum ComplaintRulesStore {
    /// One stored version of the rules document, exactly as the operator wrote it (comments included).
    public struct StoredRules: Sendable, Hashable {
        /// 1 for the first document loaded, one more for each change.
        public var version: Int
        /// The JSON text.
        public var document: String
        /// Where it came from: a file path, with `crm rules load` or the service's seeding.
        public var source: String
        /// When it was stored.
        public var loadedAt: Date
        /// md5 of the text, to recognise the same document loaded again.
        public var checksum: String
    }

    /// What `store` did.
    public enum StoreResult: Sendable, Hashable {
        /// A new version, now in force.
        case stored(version: Int)
        /// The newest version already has this exact text; nothing changed.
        case unchanged(version: Int)
    }

    /// The advisory lock key that serialises loads ("CRM_RULE").
    static let lockKey: Int64 = 0x4352_4D5F_5255_4C45

    /// The version in force, with its document; `nil` before anything was loaded.
    public static func newest(on connection: isolated PostgresConnection) throws -> StoredRules? {
        let rows = try connection.query(
            """
            SELECT version, document, source, loaded_at, checksum FROM complaint_rules
            ORDER BY version DESC LIMIT 1
            """
        )
        return try rows.first.map(decodeRow)
    }

    private static func decodeRow(_ row: PostgresRow) throws -> StoredRules {
        StoredRules(
            version: try row.decode(0),
            document: try row.decode(1),
            source: try row.decode(2),
            loadedAt: try row.decode(3),
            checksum: try row.decode(4)
        )
    }

    /// One stored version, or `nil` when there is no such version.
    public static func stored(version: Int, on connection: isolated PostgresConnection) throws -> StoredRules? {
        try connection.query(
            "SELECT version, document, source, loaded_at, checksum FROM complaint_rules WHERE version = $1",
            [version]
        ).first.map(decodeRow)
    }

    /// Every version stored, newest first, without the documents.
    public static func history(on connection: isolated PostgresConnection) throws -> [StoredRules] {
        try connection.query(
            "SELECT version, source, loaded_at, checksum FROM complaint_rules ORDER BY version DESC"
        ).map { row in
            StoredRules(
                version: try row.decode(0),
                document: "",
                source: try row.decode(1),
                loadedAt: try row.decode(2),
                checksum: try row.decode(3)
            )
        }
    }

    /// Checks a document and stores it as the next version, unless the newest version is the same text.
    ///
    /// Throws `ComplaintConfigurationError` naming every problem, and stores nothing, for a document that
    /// would not compile.
    public static func store(
        _ document: String,
        source: String,
        on connection: isolated PostgresConnection
    ) throws
        -> StoreResult
    {
        _ = try ComplaintPolicy(json: Data(document.utf8))
        try connection.execute("SELECT pg_advisory_xact_lock($1)", [lockKey])
        let newest = try newest(on: connection)
        let checksum = try connection.query("SELECT md5($1)", [document])[0].decode(0, as: String.self)
        if let newest, newest.checksum == checksum { return .unchanged(version: newest.version) }
        let version = (newest?.version ?? 0) + 1
        try connection.execute(
            "INSERT INTO complaint_rules (version, document, checksum, source) VALUES ($1, $2, md5($2), $3)",
            [version, document, source]
        )
        return .stored(version: version)
    }

    /// Stores `document` as version 1 when no rules were ever loaded; returns whether it did.
    ///
    /// Several replicas starting at once race harmlessly: the first insert wins, the others change nothing.
    @discardableResult
    public static func seed(
        _ document: String,
        source: String,
        on connection: isolated PostgresConnection
    ) throws
        -> Bool
    {
        _ = try ComplaintPolicy(json: Data(document.utf8))
        let inserted = try connection.execute(
            """
            INSERT INTO complaint_rules (version, document, checksum, source)
            SELECT 1, $1, md5($1), $2 WHERE NOT EXISTS (SELECT 1 FROM complaint_rules)
            ON CONFLICT (version) DO NOTHING
            """,
            [document, source]
        )
        return inserted > 0
    }

    /// The rules in force: the newest stored version, else the default file, or without one the built-in rules (not
    /// stored).
    ///
    /// For `crm migrate` and `crm desks`, which may run before the service ever started.
    public static func effectiveRules(
        on connection: PostgresConnection,
        defaultFile: String?
    ) async throws -> (
        rules: ComplaintRules, origin: String
    ) {
        let stored = try await connection.transaction { connection in
            // Before migration 4 the table does not exist yet: fall back to the file.
            guard try connection.query("SELECT to_regclass('complaint_rules') IS NOT NULL")[0].decode(0, as: Bool.self)
            else { return StoredRules?.none }
            return try newest(on: connection)
        }
        if let stored {
            return (try ComplaintRules.decode(from: Data(stored.document.utf8)), "database version \(stored.version)")
        }
        let (text, source) = try defaultRules(file: defaultFile)
        return (try ComplaintPolicy(json: Data(text.utf8)).rules, source)
    }

    /// The default rules: the text of `file` when given (`CRM_COMPLAINT_RULES_FILE`), else the rules built into the
    /// binary; with where they came from.
    public static func defaultRules(file: String?) throws(RulesFileError) -> (text: String, source: String) {
        guard let file else { return (DefaultComplaintRules.json, DefaultComplaintRules.source) }
        return (try readFile(file), file)
    }

    /// The text of a rules file, or an error that names the file.
    public static func readFile(_ path: String) throws(RulesFileError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RulesFileError(path: path, problem: "cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RulesFileError(path: path, problem: "is not UTF-8 text")
        }
        return text
    }
}

/// A rules file that cannot be read.
public struct RulesFileError: Error, CustomStringConvertible, Sendable {
    /// The file's path.
    public var path: String
    /// What is wrong, in words.
    public var problem: String

    public var description: String { "complaint rules file \(path) \(problem)" }
}
