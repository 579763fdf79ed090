import CRMRuntime
import CRMSupport
import Foundation
import Logging
import Testing

@testable import Alerts

/// `CRM_ALERTS_*` and the playbook file.
@Suite("Alerts configuration")
struct EngineConfigurationTests {
    @Test func defaultsAndEveryVariable() throws {
        let defaults = try AlertsConfiguration(Settings([:]))
        #expect(defaults == AlertsConfiguration())
        #expect(defaults.cap(.p1) == nil && defaults.cap(.p3) == 500)

        let configuration = try AlertsConfiguration(
            Settings([
                "CRM_ALERTS_MINIMUM_TIER": "none", "CRM_ALERTS_MINIMUM_PREDICTED_VALUE": "150",
                "CRM_ALERTS_P_ALIVE_LOW": "0.25", "CRM_ALERTS_P_ALIVE_DROP": "0.3", "CRM_ALERTS_OVERDUE_MULTIPLE": "3",
                "CRM_ALERTS_OVERDUE_MINIMUM_DAYS": "20", "CRM_ALERTS_OVERDUE_MINIMUM_ORDERS": "4",
                "CRM_ALERTS_DOWNGRADE_FROM_TIER": "silver", "CRM_ALERTS_COMPLAINT_MINIMUM_TIER": "silver",
                "CRM_ALERTS_REPEATED_COMPLAINTS": "4", "CRM_ALERTS_REPEATED_COMPLAINTS_WINDOW": "14d",
                "CRM_ALERTS_VALUE_AT_RISK": "predicted_times_churn", "CRM_ALERTS_P_ALIVE_FLOOR": "0.1",
                "CRM_ALERTS_P1_VALUE_AT_RISK": "5000", "CRM_ALERTS_P2_VALUE_AT_RISK": "800",
                "CRM_ALERTS_COOLDOWN": "7d",
                "CRM_ALERTS_DAILY_CAP_P1": "50", "CRM_ALERTS_DAILY_CAP_P2": "0", "CRM_ALERTS_SWEEP_INTERVAL": "15m",
                "CRM_ALERTS_TICK_INTERVAL": "5s", "CRM_ALERTS_BATCH_SIZE": "50",
                "CRM_RETENTION_PLAYBOOK_FILE": "/etc/p.json",
            ])
        )
        let rules = configuration.rules
        #expect(rules.eligibility.minimumTier == nil && rules.eligibility.minimumPredictedValue == 150)
        #expect(rules.pAliveLow == 0.25 && rules.pAliveMaximumDrop == 0.3)
        #expect(rules.overdueIntervalMultiple == 3 && rules.overdueMinimumDays == 20 && rules.overdueMinimumOrders == 4)
        #expect(rules.downgradeFromTier == .silver && rules.complaintMinimumTier == .silver)
        #expect(rules.repeatedComplaintsCount == 4 && rules.repeatedComplaintsWindowDays == 14)
        #expect(rules.valueAtRisk == ValueAtRisk(method: .predictedTimesChurn, pAliveFloor: 0.1))
        #expect(rules.priority == PriorityBands(p1Minimum: 5000, p2Minimum: 800))
        #expect(configuration.cooldown == .seconds(7 * 86_400))
        #expect(configuration.cap(.p1) == 50 && configuration.cap(.p2) == nil && configuration.cap(.p3) == 500)
        #expect(configuration.sweepInterval == .seconds(900) && configuration.tickInterval == .seconds(5))
        #expect(configuration.playbookFile == "/etc/p.json")
        let consuming = try AlertsService.consumerSettings(Settings(["CRM_ALERTS_BATCH_SIZE": "50"]))
        #expect(consuming == ConsumerSettings(batchSize: 50, prefetch: 100, consumers: 1, linger: .milliseconds(5)))
    }

    @Test func aBadValueNamesItsVariable() {
        let cases: [([String: String], String)] = [
            (["CRM_ALERTS_MINIMUM_TIER": "platinum"], "CRM_ALERTS_MINIMUM_TIER"),
            (["CRM_ALERTS_P_ALIVE_LOW": "2"], "CRM_ALERTS_P_ALIVE_LOW"),
            (["CRM_ALERTS_P1_VALUE_AT_RISK": "100", "CRM_ALERTS_P2_VALUE_AT_RISK": "200"], "CRM_ALERTS_*"),
            (["CRM_ALERTS_COOLDOWN": "soon"], "CRM_ALERTS_COOLDOWN"),
            (["CRM_ALERTS_TICK_INTERVAL": "1ms"], "CRM_ALERTS_TICK_INTERVAL"),
            (["CRM_ALERTS_DAILY_CAP_P3": "-1"], "CRM_ALERTS_DAILY_CAP_P3"),
        ]
        for (variables, name) in cases {
            #expect(throws: SettingsError.self) { try AlertsConfiguration(Settings(variables)) }
            do {
                _ = try AlertsConfiguration(Settings(variables))
            } catch {
                #expect(error.variable == name)
            }
        }
    }

    @Test func thePlaybookFileIsReloadedWhenEditedAndABadEditIsRefused() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("playbook-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        func write(_ text: String, modified: Date) throws {
            try Data(text.utf8).write(to: file)
            try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: file.path)
        }
        try write(
            #"{"schema":"retention-playbook.v1","default_action":"call","rules":[]}"#,
            modified: Date(timeIntervalSince1970: 1_000)
        )
        let source = try PlaybookSource(path: file.path, logger: Logger(label: "test"))
        #expect(source.current.defaultAction == "call")
        #expect(!source.reloadIfChanged())

        try write(
            #"{"schema":"retention-playbook.v1","default_action":"email","rules":[]}"#,
            modified: Date(timeIntervalSince1970: 2_000)
        )
        #expect(source.reloadIfChanged())
        #expect(source.current.defaultAction == "email")

        try write(
            #"{"schema":"retention-playbook.v1","default_action":"","rules":[]}"#,
            modified: Date(timeIntervalSince1970: 3_000)
        )
        #expect(!source.reloadIfChanged())
        #expect(source.current.defaultAction == "email")

        #expect(throws: AlertsError.self) {
            try PlaybookSource(path: file.path + ".missing", logger: Logger(label: "test"))
        }
    }
}
