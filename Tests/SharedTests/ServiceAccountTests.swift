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
    func readsOnlyTheQueuesItConsumesAndNoExchange(_ account: ServiceAccount) {
        let permissions = account.brokerPermissions
        for queue in Self.everyQueue {
            #expect(
                Self.allows(permissions.read, queue) == account.consumes.contains(queue),
                "\(account.name) read \(queue): \(permissions.read)"
            )
        }
        for exchange in Self.everyExchange {
            #expect(!Self.allows(permissions.read, exchange), "\(account.name) may bind from \(exchange)")
        }
    }

    @Test(arguments: ServiceAccount.allCases)
    func configuresNothingAndWritesOnlyWhereItPublishes(_ account: ServiceAccount) {
        let permissions = account.brokerPermissions
        for name in Self.everyQueue + Self.everyExchange {
            #expect(!Self.allows(permissions.configure, name), "\(account.name) may configure \(name)")
        }
        for queue in Self.everyQueue {
            #expect(!Self.allows(permissions.write, queue), "\(account.name) may write \(queue)")
        }
        for exchange in Self.everyExchange {
            #expect(
                Self.allows(permissions.write, exchange) == account.publishesTo.contains(exchange),
                "\(account.name) write \(exchange)"
            )
        }
    }

    /// Each exchange it writes to has a topic permission naming its own routing keys only.
    @Test(arguments: ServiceAccount.brokerAccounts)
    func publishesOnlyItsOwnRoutingKeys(_ account: ServiceAccount) throws {
        let topics = Dictionary(uniqueKeysWithValues: account.topicPermissions.map { ($0.exchange, $0) })
        #expect(Set(topics.keys) == Set(account.publishesTo))
        let events = topics[Topology.eventsExchange].map(\.write) ?? "^$"
        for key in [
            Topology.EventKey.orderAccepted, Topology.EventKey.customerScored, Topology.EventKey.complaintSignal,
        ] {
            #expect(Self.allows(events, key) == account.events.contains(key), "\(account.name) publishes \(key)")
            #expect(ServiceAccount.owner(ofEvent: key) != nil)
        }
        let dead = try #require(topics[Topology.deadLetterExchange]).write
        for queue in Self.everyQueue {
            #expect(
                Self.allows(dead, queue) == account.consumes.contains(queue),
                "\(account.name) dead-letters \(queue)"
            )
        }
        for topic in topics.values { #expect(topic.read == "^$", "\(account.name) may bind from \(topic.exchange)") }
    }

    @Test func onlyScoringPublishesLifecycleEventsAndOnlyIntakeReadsRegistrations() throws {
        for account in ServiceAccount.brokerAccounts {
            let lifecycle = account.topicPermissions.first { $0.exchange == Topology.lifecycleExchange }
            #expect((lifecycle != nil) == (account == .scoring), "\(account.name)")
            #expect(account.owns(queue: Topology.intakeCustomersQueue) == (account == .intake), "\(account.name)")
        }
        let write = try #require(
            ServiceAccount.scoring.topicPermissions.first { $0.exchange == Topology.lifecycleExchange }
        )
        .write
        for key in ["lifecycle.development", "lifecycle.purchase_due"] { #expect(Self.allows(write, key)) }
        for key in ["lifecycle", "lifecycle.a.b", "order.v1", "xlifecycle.growth"] { #expect(!Self.allows(write, key)) }
    }

    @Test func patternsAreAnchored() throws {
        let complaints = ServiceAccount.complaints
        let desks = try #require(complaints.topicPermissions.first { $0.exchange == Topology.desksExchange })
        #expect(Self.allows(desks.write, "desk.new_desk"))
        #expect(Self.allows(desks.write, "desk.escalations"))
        #expect(!Self.allows(desks.write, "desk.a.b"))
        #expect(!Self.allows(complaints.brokerPermissions.read, "desk.new_desk"), "desk queues are the desks'")
        #expect(!Self.allows(complaints.brokerPermissions.read, "alerts.events"), "complaints may read alerts' queue")
        let intake = ServiceAccount.intake.brokerPermissions
        #expect(Self.allows(intake.read, "intake.orders"))
        #expect(!Self.allows(intake.read, "xintake.orders"))
        #expect(!Self.allows(intake.read, "intake.orders.x"))
        #expect(!Self.allows(intake.read, "intake.orders.dead"), "dead letters are the operators'")
        #expect(!Self.allows(intake.read, "intake-orders"), "a dot in a name must be escaped")
        #expect(!Self.allows(intake.write, Topology.desksExchange))
        let alerts = try #require(
            ServiceAccount.alerts.topicPermissions.first { $0.exchange == Topology.alertsExchange }
        )
        #expect(Self.allows(alerts.write, "retention.p3"))
        #expect(!Self.allows(alerts.write, "retention.p4"))
        #expect(!Self.allows(alerts.write, "alert.v1.feedback"), "alerts may forge desks' feedback")
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
