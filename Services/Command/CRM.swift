import ArgumentParser
import Shared

/// The operator's command line.
@main
struct CRM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crm",
        abstract: "Operate the customer-value engine: schema, broker topology and status.",
        discussion: """
            Reads CRM_DATABASE_URL and CRM_AMQP_URL from the environment, like the services.
            Exit codes: 0 success, 1 failure, 2 bad configuration.
            """,
        version: CRMVersion.current,
        subcommands: [
            Migrate.self, Status.self, LoadOrders.self, Customer.self, Model.self, Rescore.self, ReplayDead.self,
            LoadComplaints.self, Desks.self, ComplaintRulesCommand.self, FX.self, Accounts.self,
        ]
    )
}
