import CRMPostgres
import CRMSupport
import Logging

/// One versioned schema change. Versions apply in ascending order, each exactly once.
public struct Migration: Sendable {
    public var version: Int
    public var name: String
    public var sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// FNV-1a of the script: an applied migration whose text changed afterwards is refused.
    public var checksum: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16).leftPadded(to: 16)
    }
}

/// Applies migrations under an advisory lock and records them in `crm_schema_migrations`.
///
/// Safe to run while services run and from several processes at once: the lock serialises
/// migrators, each migration commits atomically with its record, and a second run finds nothing
/// to do.
public struct Migrator: Sendable {
    /// The advisory lock key ("CRM_MIGR").
    static let lockKey: Int64 = 0x4352_4D5F_4D49_4752

    public let migrations: [Migration]

    public init(migrations: [Migration] = Schema.migrations) {
        precondition(
            Set(migrations.map(\.version)).count == migrations.count,
            "migration versions must be unique"
        )
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// Applies what is pending; returns the versions applied by this call.
    @discardableResult
    public func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.execute("SELECT pg_advisory_lock($1)", [Self.lockKey])
        do {
            let applied = try await applyPending(connection, logger: logger)
            try await connection.execute("SELECT pg_advisory_unlock($1)", [Self.lockKey])
            return applied
        } catch {
            _ = try? await connection.execute("SELECT pg_advisory_unlock($1)", [Self.lockKey])
            throw error
        }
    }

    /// Versions recorded as applied, with their checksums.
    public func appliedVersions(_ connection: PostgresConnection) async throws -> [Int: String] {
        let rows = try await connection.query(
            "SELECT version, checksum FROM crm_schema_migrations WHERE to_regclass('crm_schema_migrations') IS NOT NULL"
        )
        var result: [Int: String] = [:]
        for row in rows { result[try row.decode(0)] = try row.decode(1) }
        return result
    }

    private func applyPending(_ connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.executeScript(
            """
            CREATE TABLE IF NOT EXISTS crm_schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        let applied = try await appliedVersions(connection)
        var done: [Int] = []
        for migration in migrations {
            if let checksum = applied[migration.version] {
                guard checksum == migration.checksum else {
                    throw PostgresError(
                        .migrationFailed,
                        message: "migration \(migration.version) (\(migration.name)) changed after it was applied"
                    )
                }
                continue
            }
            try await connection.transaction { connection in
                try connection.executeScript(migration.sql)
                try connection.execute(
                    "INSERT INTO crm_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    [migration.version, migration.name, migration.checksum]
                )
            }
            logger.info(
                "Applied migration",
                metadata: ["migration.version": "\(migration.version)", "migration.name": "\(migration.name)"]
            )
            done.append(migration.version)
        }
        return done
    }
}
