import Foundation
import TestSupport

/// A PostgreSQL primary and a streaming standby of its own for one test, made with Debian's cluster tools beside the
/// test server (`pg_createcluster`, `pg_basebackup -R`), on ports of their own, and dropped afterwards.
///
/// The primary commits synchronously with the standby (`synchronous_standby_names = '*'`): a commit the services
/// were told of is on both servers, so a failover loses nothing the services acknowledged. Only the two clusters it
/// created are ever stopped.
final class PostgresPair: Sendable {
    let version: String
    let primary: String
    let standby: String
    let primaryPort: Int
    let standbyPort: Int
    let user = "crm_failover"
    let password: String
    let database = "crm"

    private init(version: String, run: String, primaryPort: Int, password: String) {
        self.version = version
        primary = "crmprimary\(run)"
        standby = "crmstandby\(run)"
        self.primaryPort = primaryPort
        standbyPort = primaryPort + 1
        self.password = password
    }

    /// Creates and starts the primary, its database and an administrator, then the standby streaming from it.
    static func start(primaryPort: Int = 5451) throws -> PostgresPair {
        let version = try Shell.run("pg_lsclusters -h | head -1 | awk '{print $1}'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let run = String(UUID().uuidString.prefix(6).lowercased())
        let pair = PostgresPair(
            version: version,
            run: run,
            primaryPort: primaryPort,
            password: "failover-\(UUID().uuidString.prefix(12))"
        )
        do {
            try pair.createPrimary()
            try pair.createStandby()
        } catch {
            pair.remove()
            throw error
        }
        return pair
    }

    /// `CRM_DATABASE_URL` naming both servers; libpq connects to whichever is the primary now.
    var url: String {
        "postgres://\(user):\(password)@127.0.0.1:\(primaryPort),127.0.0.1:\(standbyPort)/\(database)"
            + "?target_session_attrs=read-write&connect_timeout=3"
    }

    /// Stops the primary at once, as a crash would (no shutdown checkpoint, nothing more sent to the standby).
    func crashPrimary() throws {
        try Shell.run("pg_ctlcluster \(version) \(primary) stop -m immediate")
    }

    /// Makes the standby the primary.
    func promoteStandby() throws {
        try Shell.run("pg_ctlcluster \(version) \(standby) promote")
    }

    /// Whether the standby has left recovery (it is a primary now).
    func standbyIsPrimary() throws -> Bool {
        try psql(port: standbyPort, "SELECT NOT pg_is_in_recovery()").hasPrefix("t")
    }

    /// Stops and drops both clusters.
    func remove() {
        for cluster in [standby, primary] {
            _ = try? Shell.run("pg_dropcluster --stop \(version) \(cluster)")
        }
    }

    // MARK: - Internals

    private func createPrimary() throws {
        try Shell.run("pg_createcluster -q \(version) \(primary) -p \(primaryPort) >/dev/null")
        // Synchronous commits only once the standby streams (below): until then a commit would wait for ever.
        let settings = [
            "listen_addresses = '127.0.0.1'", "synchronous_commit = on", "fsync = off", "wal_keep_size = '256MB'",
            "max_connections = 100",
        ]
        try Shell.run(
            "printf '%s\\n' " + settings.map { "\"\($0)\"" }.joined(separator: " ")
                + " > /etc/postgresql/\(version)/\(primary)/conf.d/failover.conf"
        )
        try Shell.run("pg_ctlcluster \(version) \(primary) start")
        try psql(port: primaryPort, "CREATE ROLE \(user) LOGIN SUPERUSER PASSWORD '\(password)'")
        try psql(port: primaryPort, "CREATE DATABASE \(database) OWNER \(user)")
    }

    private func createStandby() throws {
        // A cluster of its own for the configuration and port, its data replaced by a base backup of the primary
        // with the standby settings written (-R).
        try Shell.run("pg_createcluster -q \(version) \(standby) -p \(standbyPort) >/dev/null")
        try Shell.run(
            "cp /etc/postgresql/\(version)/\(primary)/conf.d/failover.conf /etc/postgresql/\(version)/\(standby)/conf.d/"
        )
        let data = "/var/lib/postgresql/\(version)/\(standby)"
        try Shell.run("rm -rf '\(data)' && install -d -o postgres -g postgres -m 700 '\(data)'")
        try Shell.run(
            "su postgres -c \"pg_basebackup -h /var/run/postgresql -p \(primaryPort) -D '\(data)' -R -X stream\""
        )
        try Shell.run("pg_ctlcluster \(version) \(standby) start")
        // Synchronous from here on: the primary waits for the standby's confirmation of every commit.
        try psql(port: primaryPort, "ALTER SYSTEM SET synchronous_standby_names = '*'")
        try psql(port: primaryPort, "SELECT pg_reload_conf()")
        for _ in 0..<300 {
            let state = try psql(port: primaryPort, "SELECT sync_state FROM pg_stat_replication")
            if state.contains("sync") { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw TestSetupError("the standby of \(primary) did not start streaming")
    }

    @discardableResult
    private func psql(port: Int, _ sql: String) throws -> String {
        try Shell.run("su postgres -c \"psql -h /var/run/postgresql -p \(port) -Atqc \\\"\(sql)\\\"\"")
    }
}
