import ArgumentParser
import CRMAMQP
import CRMPostgres
import CRMSchema
import CRMSupport
import Complaints
import Foundation
import Logging

/// `crm migrate`: applies pending migrations and declares the broker topology.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations and declare the broker topology.",
        discussion: """
            Idempotent and safe while services run: migrations apply under an advisory lock, each \
            exactly once, and declaring exchanges and queues that exist changes nothing. Then each \
            service role that exists (crm_intake, crm_scoring, crm_alerts, crm_complaints, crm_console) is granted \
            exactly its tables; absent roles are skipped and named (crm accounts creates them). The \
            services only check the topology this declares: run it before them. The desks' queues come \
            from the rules in force, else CRM_COMPLAINT_RULES_FILE, else the rules built into crm.
            """
    )

    @Flag(help: "Only migrate the database; leave the broker alone.")
    var skipBroker = false

    @Flag(
        help:
            "Print one JSON object: migrations applied, roles granted and absent, desks, whether the broker was declared."
    )
    var json = false

    /// Prints a line unless the result goes out as JSON at the end.
    private func say(_ line: String) { if !json { print(line) } }

    func run() async throws {
        let settings = Settings()
        let logger = Logger(label: "crm")
        let databaseURL: String
        do {
            databaseURL = try settings.databaseURL()
        } catch {
            throw CommandFailure.configuration("\(error)")
        }
        let connection = PostgresConnection(url: databaseURL, applicationName: "crm-migrate", logger: logger)
        let applied = try await Migrator().migrate(connection, logger: logger)
        var result: [String: Any] = ["applied": applied, "broker_declared": false]
        say(
            applied.isEmpty
                ? "Database schema is up to date."
                : "Applied migrations: \(applied.map(String.init).joined(separator: ", "))."
        )
        // Each service's role (when it exists) gets exactly its tables again, new ones included.
        let grants = try await connection.transaction { connection in try Schema.grantServiceRoles(on: connection) }
        say(grants.summary)
        result["granted"] = grants.granted
        result["absent_roles"] = grants.absent
        result["notes"] = grants.notes
        guard !skipBroker else {
            await connection.close()
            if json { print(try JSONOutput.string(result)) }
            return
        }
        // A `desk.<name>` queue for every configured desk: the rules in force, else the default rules (the file of
        // CRM_COMPLAINT_RULES_FILE, or those built in).
        let rulesFile = settings.string("CRM_COMPLAINT_RULES_FILE")
        let desks: [String]
        do {
            let (rules, origin) = try await ComplaintRulesStore.effectiveRules(on: connection, defaultFile: rulesFile)
            desks = rules.desks.map(\.name)
            say("Desks (from \(origin)): \(desks.joined(separator: ", ")).")
            result["desks"] = desks
        } catch {
            await connection.close()
            throw CommandFailure.configuration("cannot read the complaint rules for the desk queues: \(error)")
        }
        await connection.close()
        let amqp: AMQPSettings
        do {
            amqp = try AMQPSettings.from(settings)
        } catch {
            throw CommandFailure.configuration("\(error)")
        }
        let publisher = AMQPPublisher(
            settings: amqp,
            name: "crm-migrate",
            topology: Topology.system(desks: desks),
            logger: logger
        )
        try await publisher.connect()
        await publisher.close()
        say("Broker topology declared on \(amqp.redacted).")
        result["broker_declared"] = true
        if json { print(try JSONOutput.string(result)) }
    }
}

/// A failure the command line reports in one line with its exit code.
enum CommandFailure: Error, CustomStringConvertible {
    case configuration(String)
    case notFound(String)
    /// A wrong command line, in one line naming the flag or argument.
    case usage(String)
    /// The command could not do its work; the text says why.
    case failed(String)

    var description: String {
        switch self {
        case .configuration(let text): "configuration error: \(text)"
        case .notFound(let text), .usage(let text), .failed(let text): text
        }
    }

    /// 2 for configuration, like the services; 64 (EX_USAGE) for a wrong command line; 1 otherwise.
    var exitCode: Int32 {
        switch self {
        case .configuration: 2
        case .notFound, .failed: 1
        case .usage: 64
        }
    }
}
