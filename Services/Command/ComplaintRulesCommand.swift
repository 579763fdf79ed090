import ArgumentParser
import CRMAMQP
import CRMSupport
import Complaints
import Foundation

/// `crm rules`: the complaint rules in force (classification, priority, desks, routing, SLA) and loading new ones.
struct ComplaintRulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Show, check or load the complaint rules crm-complaints decides with.",
        discussion: """
            The rules live in the database, one version per load; the newest is in force. Running \
            services pick up a new version within CRM_COMPLAINTS_RULES_REFRESH (default 30s), and \
            declare the queue of any new desk. A document is checked as a whole before it is stored: \
            every problem is reported with where it is, and nothing is stored.
            """,
        subcommands: [Show.self, History.self, Check.self, Load.self],
        defaultSubcommand: Show.self
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the rules document in force (the default file when none was loaded yet)."
        )

        @Option(help: "Print this stored version instead of the newest.")
        var version: Int?

        func run() async throws {
            let environment = CommandEnvironment()
            let pool = try environment.pool()
            let stored = try await pool.transaction { [version] connection in
                try version.map { try ComplaintRulesStore.stored(version: $0, on: connection) }
                    ?? ComplaintRulesStore.newest(on: connection)
            }
            await pool.close()
            if let stored {
                FileHandle.standardError.write(Data("complaint rules version \(stored.version)\n".utf8))
                print(stored.document)
            } else if let version {
                throw ValidationError("no stored complaint rules version \(version)")
            } else {
                let (text, source) = try ComplaintRulesStore.defaultRules(file: environment.rulesFile)
                FileHandle.standardError.write(Data("no rules loaded yet; the \(source) apply\n".utf8))
                print(text)
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every stored version, newest first.")

        @Flag(help: "Print one JSON object (times in RFC 3339).")
        var json = false

        func run() async throws {
            let pool = try CommandEnvironment().pool()
            let versions = try await pool.transaction { connection in try ComplaintRulesStore.history(on: connection) }
            await pool.close()
            if json {
                let entries: [[String: Any]] = versions.map { entry in
                    [
                        "version": entry.version, "loaded_at": UTCDateTime.format(entry.loadedAt),
                        "source": entry.source,
                        "in_force": entry.version == versions.first?.version,
                    ]
                }
                print(try JSONOutput.string(["versions": entries]))
                return
            }
            if versions.isEmpty { print("No complaint rules loaded yet.") }
            for entry in versions {
                let marker = entry.version == versions.first?.version ? " (in force)" : ""
                print("\(entry.version)  \(UTCDateTime.format(entry.loadedAt))  \(entry.source)\(marker)")
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a rules file without storing it.")

        @Argument(help: "The rules document, e.g. deploy/complaint-rules.json.", completion: .file())
        var file: String

        func run() async throws {
            let policy = try ComplaintRulesCommand.compile(file)
            print(
                "\(file): valid; \(policy.rules.desks.count) desks, \(policy.rules.routing.rules.count) routing rules, "
                    + "\(policy.classifier.knownCategories.count) categories."
            )
        }
    }

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a rules file and store it as the next version, then declare its desks' queues."
        )

        @Argument(help: "The rules document.", completion: .file())
        var file: String

        @Flag(
            help: """
                Store only; leave the broker alone (run crm migrate later: until then, replicas keep the rules in \
                force and wait for the new desks' queues).
                """
        )
        var skipBroker = false

        func run() async throws {
            let environment = CommandEnvironment()
            let policy = try ComplaintRulesCommand.compile(file)
            let text = try ComplaintRulesStore.readFile(file)
            // The desks' queues first: running replicas put the new version in force once its queues exist.
            if !skipBroker {
                let desks = policy.rules.desks.map(\.name)
                let publisher = AMQPPublisher(
                    settings: try environment.amqp(),
                    name: "crm-rules",
                    topology: Topology.complaints(desks: desks),
                    logger: environment.logger
                )
                do {
                    try await publisher.connect()
                } catch {
                    await publisher.close()
                    throw error
                }
                await publisher.close()
                print("Declared desk queues: \(desks.map { "desk.\($0)" }.joined(separator: ", ")).")
            }
            let pool = try environment.pool()
            let result = try await pool.transaction { [file] connection in
                try ComplaintRulesStore.store(text, source: file, on: connection)
            }
            await pool.close()
            switch result {
            case .stored(let version): print("Stored complaint rules version \(version) from \(file).")
            case .unchanged(let version): print("Version \(version) already has exactly this text; nothing changed.")
            }
        }
    }

    /// Compiles a rules file, printing every problem on its own line when it does not.
    static func compile(_ file: String) throws -> ComplaintPolicy {
        let text = try ComplaintRulesStore.readFile(file)
        do {
            return try ComplaintPolicy(json: Data(text.utf8))
        } catch {
            for issue in error.issues { FileHandle.standardError.write(Data("\(file): \(issue)\n".utf8)) }
            throw ExitCode.failure
        }
    }
}

extension CommandEnvironment {
    /// The default complaint rules file (`CRM_COMPLAINT_RULES_FILE`); nil for the rules built into `crm`.
    var rulesFile: String? {
        settings.string("CRM_COMPLAINT_RULES_FILE")
    }
}
