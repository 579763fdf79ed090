import Testing

@testable import CRMAMQP
@testable import CRMSupport

@Suite("Settings")
struct SettingsTests {
    @Test func parsesAnAMQPURLWithVirtualHostAndTLS() throws {
        let settings = try AMQPSettings(url: "amqps://intake:s%40cret@broker.internal:5671/crm")
        #expect(settings.user == "intake")
        #expect(settings.password == "s@cret")
        #expect(settings.host == "broker.internal")
        #expect(settings.port == 5671)
        #expect(settings.virtualHost == "crm")
        #expect(settings.useTLS)
        #expect(!settings.redacted.contains("s@cret"))
    }

    @Test func listsTheBrokersOfAClusterInEitherForm() throws {
        let listed = try AMQPSettings(
            url: "amqp://u:p@rabbit1:5672/crm, amqp://u:p@rabbit2:5673/crm,amqp://u:p@rabbit3/crm"
        )
        let brokers = [
            AMQPSettings.Broker(host: "rabbit1", port: 5672), AMQPSettings.Broker(host: "rabbit2", port: 5673),
            AMQPSettings.Broker(host: "rabbit3", port: 5672),
        ]
        #expect(listed.brokers == brokers)
        #expect(listed.user == "u" && listed.password == "p" && listed.virtualHost == "crm")
        let hosts = try AMQPSettings(url: "amqp://u:p@rabbit1:5672,rabbit2:5673,rabbit3/crm")
        #expect(hosts == listed)
        #expect(hosts.host == "rabbit1" && hosts.port == 5672)
        #expect(hosts.redacted == "amqp://u@rabbit1:5672/crm,amqp://u@rabbit2:5673/crm,amqp://u@rabbit3:5672/crm")
        let single = try AMQPSettings(url: "amqp://u:p@rabbit1/crm")
        #expect(single.brokers == [AMQPSettings.Broker(host: "rabbit1", port: 5672)])
    }

    @Test(arguments: [
        "amqp://u:p@rabbit1/crm,amqp://v:p@rabbit2/crm",
        "amqp://u:p@rabbit1/crm,amqp://u:p@rabbit2/other",
        "amqp://u:p@rabbit1/crm,amqps://u:p@rabbit2/crm",
        "amqp://u:p@rabbit1/crm,amqp://u:p@rabbit1:5672/crm",
        "amqp://u:p@rabbit1,rabbit2:99999/crm",
    ])
    func refusesClustersThatAreNotOne(_ url: String) {
        #expect(throws: SettingsError.self) { _ = try AMQPSettings.from(Settings(["CRM_AMQP_URL": url])) }
        let error = #expect(throws: SettingsError.self) { _ = try AMQPSettings(url: url) }
        #expect(error?.variable == "CRM_AMQP_URL")
        #expect(error.map { !$0.problem.contains(":p@") } == true, "the problem must not quote the password")
    }

    @Test func defaultsTheVirtualHostAndPort() throws {
        let plain = try AMQPSettings(url: "amqp://guest:guest@localhost")
        #expect(plain.port == 5672)
        #expect(plain.virtualHost == "/")
        let encoded = try AMQPSettings(url: "amqp://guest:guest@localhost/%2F")
        #expect(encoded.virtualHost == "/")
        #expect(try AMQPSettings(url: "amqps://h").port == 5671)
    }

    @Test func rejectsAWrongSchemeNamingTheVariable() {
        #expect {
            _ = try AMQPSettings.from(Settings(["CRM_AMQP_URL": "http://broker"]))
        } throws: { error in
            (error as? SettingsError)?.description.hasPrefix("CRM_AMQP_URL: scheme must be amqp or amqps") == true
        }
    }

    @Test func missingRequiredVariableIsNamed() {
        #expect(
            throws: SettingsError(variable: "CRM_AMQP_URL", problem: "required but not set (nor CRM_AMQP_URL_FILE)")
        ) {
            _ = try AMQPSettings.from(Settings([:]))
        }
    }

    @Test func validatesNumbersBooleansAndDurations() throws {
        let settings = Settings([
            "CRM_HTTP_PORT": "80a", "CRM_FLAG": "maybe", "CRM_WAIT": "250ms", "CRM_LONG": "2h", "CRM_BAD": "soon",
        ])
        #expect(throws: SettingsError.self) { _ = try settings.int("CRM_HTTP_PORT", default: 1, in: 0...65535) }
        #expect(throws: SettingsError.self) { _ = try settings.bool("CRM_FLAG", default: false) }
        #expect(try settings.duration("CRM_WAIT", default: .zero) == .milliseconds(250))
        #expect(try settings.duration("CRM_LONG", default: .zero) == .seconds(7200))
        #expect(throws: SettingsError.self) { _ = try settings.duration("CRM_BAD", default: .zero) }
        #expect(try settings.int("CRM_UNSET", default: 7) == 7)
        do {
            _ = try settings.int("CRM_HTTP_PORT", default: 1, in: 0...65535)
        } catch {
            #expect(error.description == "CRM_HTTP_PORT: expected an integer from 0 to 65535, got \"80a\"")
        }
    }

    @Test func topologyGivesEveryConsumingQueueADeadLetterQueue() {
        let topology = Topology.system(desks: ["logistics", "billing"])
        let names = Set(topology.allQueues.map(\.queue.name))
        for queue in ["intake.orders", "complaints.inbox", "alerts.feedback", "desk.logistics", "desk.escalations"] {
            #expect(names.contains(queue))
            #expect(names.contains(queue + ".dead"))
        }
        let intake = topology.queues.first { $0.name == "intake.orders" }!
        let arguments = Topology.arguments(for: intake, quorum: true)
        #expect(arguments["x-queue-type"] == .string("quorum"))
        #expect(arguments["x-dead-letter-exchange"] == .string("crm.dead"))
    }
}
