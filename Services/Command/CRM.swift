import ArgumentParser
import CRMRuntime
import Foundation

/// The operator's command line.
@main
struct CRM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crm",
        abstract: "Operate the customer-value engine: schema, broker topology and status.",
        discussion: """
            Reads CRM_DATABASE_URL and CRM_AMQP_URL from the environment, like the services.

            Exit codes: 0 success, 1 failure, 2 bad configuration, 64 a wrong command line.
            """,
        version: CRMVersion.current,
        subcommands: [
            Migrate.self, Status.self, LoadOrders.self, Customer.self, Customers.self, Report.self, Model.self,
            Rescore.self, Users.self, ReplayDead.self, LoadComplaints.self, Desks.self, ComplaintRulesCommand.self,
            FX.self, Accounts.self, Orders.self, OrderTrace.self, Prune.self, AlertsCommand.self, RetentionCommand.self,
        ]
    )

    /// Runs the chosen subcommand; a configuration error exits 2, as the services do, so that scripts can tell
    /// "fix the environment" from "try again".
    static func main() async {
        // One binary for the image: called through a link named after a service, it is that service.
        await MultiCall.runServiceNamedBy(CommandLine.arguments.first ?? "crm")
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("crm: \(failure)\n".utf8))
            Foundation.exit(failure.exitCode)
        } catch {
            if let plain = PlainErrors.describe(error) {
                FileHandle.standardError.write(Data("crm: \(plain.text)\n".utf8))
                Foundation.exit(plain.exitCode)
            }
            exit(withError: error)
        }
    }
}
