import CRMSchema
import Foundation
import TestSupport
import Testing

extension SystemTests {
    /// docker-compose.yml and .env.example, read as text: every service runs with its own accounts, every setting
    /// the file needs is in the example, and the example holds no secret.
    @Suite("Deployment configuration")
    struct DeploymentConfigTests {
        static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()

        static func text(_ path: String) throws -> String {
            try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
        }

        /// The lines of one top-level service of the compose file, up to the next one.
        static func block(_ service: String, in compose: String) -> String {
            let lines = compose.split(separator: "\n", omittingEmptySubsequences: false)
            guard let start = lines.firstIndex(of: "  \(service):") else { return "" }
            let end = lines[(start + 1)...].firstIndex {
                $0.hasPrefix("  ") && !$0.hasPrefix("   ") && $0.hasSuffix(":")
            }
            return lines[start..<(end ?? lines.endIndex)].joined(separator: "\n")
        }

        /// How the compose file reads a password: required, so a missing one stops `up` naming it.
        static func password(_ variable: String) -> String {
            "${\(variable):?set \(variable) in .env (see .env.example)}"
        }

        @Test func eachServiceConnectsWithItsOwnAccounts() throws {
            let compose = try Self.text("docker-compose.yml")
            for account in ServiceAccount.allCases {
                let block = Self.block(account.executable, in: compose)
                #expect(!block.isEmpty, "no \(account.executable) in docker-compose.yml")
                let credentials = "\(account.name):\(Self.password(account.passwordVariable))@"
                #expect(
                    block.contains("CRM_DATABASE_URL: postgres://\(credentials)postgres:5432/crm"),
                    "\(account.executable)"
                )
                if account.usesBroker {
                    #expect(
                        block.contains("CRM_AMQP_URL: amqp://\(credentials)${CRM_AMQP_NODES:-rabbitmq:5672}/crm"),
                        "\(account.executable)"
                    )
                } else {
                    // The shared environment's broker URL (the broker owner's) is blanked out.
                    #expect(block.contains(#"CRM_AMQP_URL: """#), "\(account.executable) gets a broker URL")
                }
                #expect(!block.contains("ADMIN_PASSWORD"), "\(account.executable) holds an administrator's password")
                #expect(block.contains("<<: *crm-service"))
            }
            // Services start once their accounts exist.
            let shared =
                compose.components(separatedBy: "x-crm-service: &crm-service").last?
                .components(separatedBy: "\nservices:").first ?? ""
            #expect(shared.contains("    accounts:\n      condition: service_completed_successfully"))
            let accounts = Self.block("accounts", in: compose)
            #expect(accounts.contains(#"command: ["crm", "accounts", "--all"]"#))
            for account in ServiceAccount.allCases {
                #expect(accounts.contains("\(account.passwordVariable): \(Self.password(account.passwordVariable))"))
            }
            #expect(accounts.contains("CRM_CONSOLE_ADMIN_PASSWORD: \(Self.password("CRM_CONSOLE_ADMIN_PASSWORD"))"))
            // The console is published (behind the same healthcheck as every service).
            #expect(Self.block("crm-console", in: compose).contains(":8080\""))
            #expect(
                !Self.block("migrate", in: compose).contains("ADMIN_PASSWORD"),
                "the migrate job holds an administrator's password"
            )
        }

        @Test func theExampleNamesEverySettingAndHoldsNoSecret() throws {
            let compose = try Self.text("docker-compose.yml")
            let example = try Self.text(".env.example")
            var defined: [String: String] = [:]
            for line in example.split(separator: "\n") where !line.hasPrefix("#") {
                let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { continue }
                defined[String(parts[0])] = String(parts[1])
            }
            // ${NAME} or ${NAME:?...} must be in the example (${NAME:-default} may be; $${NAME} is the container's).
            let required = Set(
                compose.matches(of: /(\$?)\$\{([A-Z0-9_]+)(\}|:\?)/).filter { $0.output.1.isEmpty }.map {
                    String($0.output.2)
                }
            )
            let missing = required.subtracting(defined.keys)
            #expect(missing.isEmpty, ".env.example lacks \(missing.sorted())")
            let secrets = defined.filter { $0.key.contains("PASSWORD") || $0.key.contains("SECRET") }
            #expect(secrets.count >= 9)
            for (name, value) in secrets {
                #expect(value == "change-me", "\(name) in .env.example is not the change-me placeholder")
            }
            let ignored = try Self.text(".gitignore").split(separator: "\n")
            #expect(ignored.contains(".env") && ignored.contains(".local/"))
        }

        /// Every password the compose file reads is required (`${VAR:?...}`): a missing one stops `up` with its name,
        /// never starts a server with an empty password.
        @Test func everyPasswordIsRequired() throws {
            let compose = try Self.text("docker-compose.yml")
            let references = compose.matches(of: /(\$?)\$\{([A-Z0-9_]*PASSWORD[A-Z0-9_]*)([^}]*)\}/)
                .filter { $0.output.1.isEmpty }
            #expect(references.count >= 15)
            for reference in references {
                let name = String(reference.output.2)
                #expect(
                    reference.output.3 == ":?set \(name) in .env (see .env.example)",
                    "${\(name)\(reference.output.3)} is not required"
                )
            }
        }

        /// Every long-running container has memory and CPU limits; the backup profile dumps and prunes.
        @Test func containersHaveLimitsAndTheBackupProfileExists() throws {
            let compose = try Self.text("docker-compose.yml")
            for account in ServiceAccount.allCases {
                let block = Self.block(account.executable, in: compose)
                let variable = account.executable.dropFirst(4).uppercased()
                #expect(
                    block.contains("memory: ${CRM_\(variable)_MEMORY:-"),
                    "\(account.executable) has no memory limit"
                )
                #expect(block.contains("cpus: \"${CRM_\(variable)_CPUS:-"), "\(account.executable) has no CPU limit")
            }
            #expect(Self.block("postgres", in: compose).contains("memory: ${CRM_POSTGRES_MEMORY:-"))
            #expect(compose.contains("memory: ${CRM_RABBITMQ_MEMORY:-"))
            let backup = Self.block("backup", in: compose)
            #expect(backup.contains(#"profiles: ["backup"]"#))
            #expect(backup.contains("pg_dump --format=custom"))
            #expect(backup.contains("-mtime \"+$$CRM_BACKUP_KEEP_DAYS\" -print -delete"))
            #expect(Self.block("prune", in: compose).contains("crm prune"))
            let dockerfile = try Self.text("deploy/Dockerfile")
            #expect(dockerfile.contains("org.opencontainers.image.version=\"${CRM_VERSION}\""))
        }

        /// docker-compose itself accepts the file with the example's settings, and refuses it without a password,
        /// naming it. Skipped where docker-compose is not installed.
        @Test func dockerComposeValidatesTheFile() throws {
            guard (try? Shell.run("command -v docker-compose")) != nil else { return }
            let example = try Self.text(".env.example").replacingOccurrences(of: "change-me", with: "a-long-password-1")
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("crm-\(UUID()).env")
            try Data(example.utf8).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let compose = Self.root.appendingPathComponent("docker-compose.yml").path
            try Shell.run("docker-compose --env-file '\(file.path)' -f '\(compose)' config -q")
            let without = example.replacingOccurrences(of: "CRM_SCORING_PASSWORD=a-long-password-1", with: "")
            try Data(without.utf8).write(to: file)
            #expect(throws: (any Error).self) {
                try Shell.run("docker-compose --env-file '\(file.path)' -f '\(compose)' config -q")
            }
            let output =
                (try? Shell.run("docker-compose --env-file '\(file.path)' -f '\(compose)' config -q 2>&1 || true"))
                ?? ""
            #expect(output.contains("set CRM_SCORING_PASSWORD in .env"))
        }
    }
}
