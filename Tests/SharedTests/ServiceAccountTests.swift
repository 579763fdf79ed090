import Foundation
import Testing

@testable import CRMAMQP
@testable import CRMPostgres
@testable import CRMSchema

/// What each service account is allowed, as data: the broker permission patterns derived from the topologies,
/// and the grant lists `crm migrate` turns into SQL.
@Suite("Service accounts")
struct ServiceAccountTests {
    static let desks = ["billing", "general"]

    /// Whether a RabbitMQ permission pattern (an Erlang regular expression, here plain enough for ICU) allows `name`.
    /// RabbitMQ searches the name for the pattern (`re:run`), so only the pattern's own anchors make it exact.
    static func allows(_ pattern: String, _ name: String) -> Bool {
        guard let regex = try? Regex(pattern) else { return false }
        return name.firstMatch(of: regex) != nil
    }

    static var everyQueue: [String] { Topology.system(desks: desks).allQueues.map(\.queue.name) }
    static var everyExchange: [String] { Topology.system(desks: desks).exchanges.map(\.name) }

    @Test(arguments: ServiceAccount.allCases)
    func readsOnlyItsOwnQueuesAndTheExchangesItBindsFrom(_ account: ServiceAccount) {
        let permissions = account.brokerPermissions(desks: Self.desks)
        let topology = account.topology(desks: Self.desks)
        for queue in Self.everyQueue {
            #expect(
                Self.allows(permissions.read, queue) == account.owns(queue: queue),
                "\(account.name) read \(queue): \(permissions.read)"
            )
        }
        let sources = Set(topology.allQueues.flatMap(\.queue.bindings).map(\.exchange))
        for exchange in Self.everyExchange {
            #expect(
                Self.allows(permissions.read, exchange) == sources.contains(exchange),
                "\(account.name) read \(exchange)"
            )
        }
    }

    @Test(arguments: ServiceAccount.allCases)
    func configuresWhatItDeclaresAndWritesWhereItPublishes(_ account: ServiceAccount) {
        let permissions = account.brokerPermissions(desks: Self.desks)
        let topology = account.topology(desks: Self.desks)
        let declared = Set(topology.allQueues.map(\.queue.name))
        for queue in Self.everyQueue {
            #expect(
                Self.allows(permissions.configure, queue) == declared.contains(queue),
                "\(account.name) configure \(queue)"
            )
            #expect(Self.allows(permissions.write, queue) == declared.contains(queue), "\(account.name) write \(queue)")
        }
        for exchange in Self.everyExchange {
            #expect(
                Self.allows(permissions.configure, exchange) == topology.exchanges.contains { $0.name == exchange },
                "\(account.name) configure \(exchange)"
            )
            #expect(
                Self.allows(permissions.write, exchange) == account.publishesTo.contains(exchange),
                "\(account.name) write \(exchange)"
            )
        }
    }

    @Test func patternsAreAnchoredAndDesksAddedLaterAreComplaints() {
        let complaints = ServiceAccount.complaints.brokerPermissions(desks: [])
        #expect(Self.allows(complaints.configure, "desk.new_desk"))
        #expect(Self.allows(complaints.read, "desk.new_desk.dead"))
        #expect(!Self.allows(complaints.read, "desk.a.b"))
        #expect(!Self.allows(complaints.read, "alerts.events"), "complaints may read alerts' queue")
        #expect(Self.allows(complaints.write, "alerts.events"), "complaints must bind its signals to alerts.events")
        let intake = ServiceAccount.intake.brokerPermissions(desks: [])
        #expect(Self.allows(intake.read, "intake.orders"))
        #expect(!Self.allows(intake.read, "xintake.orders"))
        #expect(!Self.allows(intake.read, "intake.orders.x"))
        #expect(!Self.allows(intake.read, "intake-orders"), "a dot in a name must be escaped")
        #expect(!Self.allows(intake.write, Topology.desksExchange))
    }

    @Test func grantListsAreWellFormedAndPersonalDataStaysWithIntake() throws {
        for account in ServiceAccount.allCases {
            for (table, list) in account.grantedTables {
                #expect(throws: Never.self) { _ = try Schema.identifier(table) }
                #expect(throws: Never.self) { _ = try Schema.privileges(list) }
            }
            if account != .intake, let customers = account.tables["customers"] {
                #expect(customers.hasPrefix("SELECT ("), "\(account.name) reads every customer column")
                let columns = customers.drop { $0 != "(" }.dropFirst().dropLast().split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                // The console shows a customer's name on the customer page; no service but intake reads e-mail.
                #expect(account == .console || !columns.contains("name"), "\(account.name) reads \(columns)")
                #expect(!columns.contains("email"), "\(account.name) reads \(columns)")
            }
        }
        #expect(throws: PostgresError.self) { _ = try Schema.identifier("orders; DROP TABLE orders") }
        #expect(throws: PostgresError.self) { _ = try Schema.identifier("Orders") }
        #expect(throws: PostgresError.self) { _ = try Schema.privileges("SELECT; DROP TABLE orders") }
        #expect(ServiceAccount.intake.passwordVariable == "CRM_INTAKE_PASSWORD")
        #expect(ServiceAccount.scoring.databasePrivileges == "CONNECT, TEMPORARY")
        #expect(ServiceAccount.alerts.databasePrivileges == "CONNECT")
    }

    @Test func grantsSummaryNamesSkippedRoles() {
        let grants = ServiceGrants(granted: ["crm_intake"], absent: ["crm_scoring", "crm_alerts"])
        #expect(grants.summary.contains("Privileges granted to crm_intake."))
        #expect(grants.summary.contains("No role crm_scoring, crm_alerts: skipped"))
    }
}
