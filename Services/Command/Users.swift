import ArgumentParser
import CRMSupport
import Console
import Foundation

/// `crm users`: the web console's users.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add, list and remove the users of the web console (crm-console).",
        discussion: """
            Roles: analyst (overview, customers, model, retention, CSV export), desk_manager (desks, retention, \
            customers), admin (everything). Passwords are stored only as bcrypt hashes (cost \
            \(PasswordHasher.cost)); they are read from CRM_USER_PASSWORD or, without it, from the first line of \
            standard input, never from the command line.
            """,
        subcommands: [Add.self, List.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a console user (password from CRM_USER_PASSWORD or standard input)."
        )

        @Argument(help: "The user name: letters, digits, '.', '_', '@', '-'; at most 64.") var name: String
        @Option(help: "analyst, desk_manager or admin.") var role: String
        @Flag(help: "Update an existing user's role and password (ending its sessions) instead of refusing.")
        var replace = false

        func run() async throws {
            guard ConsoleUsers.isValidName(name) else {
                throw CommandFailure.usage("NAME: '\(name)' is not a user name (letters, digits, . _ @ -; at most 64)")
            }
            guard let role = ConsoleRole(rawValue: role) else {
                throw CommandFailure.usage("--role: '\(role)' is not one of analyst, desk_manager, admin")
            }
            let password = try Users.password()
            let environment = CommandEnvironment()
            let pool = try environment.pool()
            let outcome: ConsoleUsers.AddOutcome
            do {
                outcome = try await ConsoleUsers.add(
                    name: name,
                    role: role,
                    password: password,
                    replace: replace,
                    pool: pool
                )
            } catch {
                await pool.close()
                throw error
            }
            await pool.close()
            switch outcome {
            case .added: print("User \(name) added as \(role.rawValue).")
            case .updated: print("User \(name) updated: role \(role.rawValue), new password; its sessions ended.")
            case .exists:
                throw CommandFailure.configuration(
                    "user \(name) exists (use --replace to change its role and password)"
                )
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the console's users.")

        @Flag(help: "One JSON object per line.") var json = false

        func run() async throws {
            let environment = CommandEnvironment()
            let idle = try environment.settings.duration("CRM_CONSOLE_SESSION_IDLE", default: .seconds(1800))
            let pool = try environment.pool()
            let users: [ConsoleUsers.User]
            do {
                users = try await ConsoleUsers.list(pool: pool, idle: idle)
            } catch {
                await pool.close()
                throw error
            }
            await pool.close()
            let formatter = ISO8601DateFormatter()
            if json {
                for user in users {
                    let object: [String: Any] = [
                        "name": user.name, "role": user.role.rawValue,
                        "created_at": formatter.string(from: user.createdAt), "active_sessions": user.activeSessions,
                    ]
                    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                    print(String(decoding: data, as: UTF8.self))
                }
                return
            }
            guard !users.isEmpty else {
                print("No console users. Add one with: crm users add NAME --role admin")
                return
            }
            let width = max(4, users.map(\.name.count).max() ?? 0)
            print("name".padding(toLength: width, withPad: " ", startingAt: 0) + "  role        sessions  created")
            for user in users {
                print(
                    user.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                        + user.role.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
                        + String(user.activeSessions).leftPadded(to: 8, with: " ") + "  " + "  "
                        + formatter.string(from: user.createdAt)
                )
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a console user and end its sessions.")

        @Argument(help: "The user name.") var name: String

        func run() async throws {
            let environment = CommandEnvironment()
            let pool = try environment.pool()
            let removed: Bool
            do {
                removed = try await ConsoleUsers.remove(name: name, pool: pool)
            } catch {
                await pool.close()
                throw error
            }
            await pool.close()
            guard removed else { throw CommandFailure.notFound("no console user \(name)") }
            print("User \(name) removed; its sessions have ended.")
        }
    }

    /// The password from `CRM_USER_PASSWORD`, else the first line of standard input; checked.
    static func password() throws -> String {
        let password: String
        if let given = ProcessInfo.processInfo.environment["CRM_USER_PASSWORD"], !given.isEmpty {
            password = given
        } else {
            let line: String?
            if isatty(STDIN_FILENO) != 0, let typed = getpass("Password (not shown): ") {
                line = String(cString: typed)  // read from the terminal without echo
            } else {
                line = readLine(strippingNewline: true)
            }
            guard let line, !line.isEmpty else {
                throw CommandFailure.usage("password: none given (set CRM_USER_PASSWORD or write it to standard input)")
            }
            password = line
        }
        if let problem = PasswordHasher.problem(with: password) {
            throw CommandFailure.usage("password: \(problem)")
        }
        return password
    }
}
