import CRMContract
import CRMRuntime
import CRMSupport
import Complaints
import Foundation
import Testing

@Suite("Complaints service: settings")
struct ServiceSettingsTests {
    @Test func slaTargetsOverrideTheRulesPerPriority() throws {
        let configuration = try ComplaintsConfiguration(
            settings: Settings([
                "CRM_COMPLAINTS_SLA_TARGETS": "p1=30s/2m, p4=1h/2d", "CRM_COMPLAINTS_MAX_ESCALATION_LEVEL": "5",
                "CRM_COMPLAINTS_SIGNAL_TIER": "gold",
            ])
        )
        let rules = configuration.applyingOverrides(to: try Fixture.policy().rules)
        #expect(rules.sla.targets[.p1] == SLAPolicy.Targets(firstResponse: .seconds(30), resolution: .seconds(120)))
        #expect(
            rules.sla.targets[.p4] == SLAPolicy.Targets(firstResponse: .seconds(3600), resolution: .seconds(172_800))
        )
        #expect(rules.sla.targets[.p2] == (try Fixture.policy().rules.sla.targets[.p2]))
        #expect(rules.sla.maxEscalationLevel == 5)
        #expect(configuration.signals(.gold) && !configuration.signals(.silver) && !configuration.signals(.unknown))
        let defaults = try ComplaintsConfiguration(settings: Settings([:]))
        #expect(defaults.signals(.silver) && !defaults.signals(.bronze))
        #expect(defaults.maxEscalationLevel == nil)
        let consuming = try ComplaintsService.consumerSettings(Settings([:]))
        #expect(consuming == ConsumerSettings(batchSize: 100, prefetch: 200, consumers: 2, linger: .milliseconds(2)))
    }

    @Test(arguments: [
        ("CRM_COMPLAINTS_SLA_TARGETS", "p1=15m"),
        ("CRM_COMPLAINTS_SLA_TARGETS", "p9=1m/2m"),
        ("CRM_COMPLAINTS_SLA_TARGETS", "p1=2h/1h"),
        ("CRM_COMPLAINTS_SIGNAL_TIER", "platinum"),
        ("CRM_COMPLAINTS_SWEEP_INTERVAL", "0s"),
        ("CRM_COMPLAINTS_BATCH_SIZE", "0"),
    ])
    func aBadSettingIsNamed(_ variable: String, _ value: String) {
        #expect {
            _ = try ComplaintsConfiguration(settings: Settings([variable: value]))
            _ = try ComplaintsService.consumerSettings(Settings([variable: value]))
        } throws: { error in
            (error as? SettingsError)?.variable == variable
        }
    }
}

@Suite("Complaints service: SLA warning message")
struct SLAWarningMessageTests {
    @Test func aWarningEncodesWithTheDocumentedFieldsAndDecodesBack() throws {
        let warning = SLAWarningMessage(
            complaintID: try Identifier("K-7"),
            customerID: try Identifier("C-42"),
            desk: "logistics",
            category: "delivery",
            severity: .medium,
            priority: .p2,
            target: .firstResponse,
            dueAt: try Timestamp(rfc3339: "2026-11-21T10:00:00Z"),
            warnedAt: try Timestamp(rfc3339: "2026-11-21T09:48:00Z"),
            escalationLevel: 0
        )
        let body = try warning.encodedBody()
        let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "schema", "complaint_id", "customer_id", "desk", "category", "severity", "priority", "target", "due_at",
                "warned_at", "escalation_level",
            ]
        )
        #expect(object["schema"] as? String == "complaint-sla-warning.v1")
        #expect(object["due_at"] as? String == "2026-11-21T10:00:00.000Z")
        #expect(try JSONDecoder().decode(SLAWarningMessage.self, from: body) == warning)
        let wrong = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "first_response", with: "lunch")
        #expect(throws: MessageRejection.self) { try SLAWarningMessage.decode(body: Data(wrong.utf8)) }
    }
}
