import Foundation
import TestSupport
import Testing

extension SystemTests {
    /// deploy/prometheus: the configuration and the alerting rules pass Prometheus' own checks, and every rule's unit
    /// tests (alerts.test.yml) pass. Needs promtool (Debian's `prometheus` package; scripts/servers.sh installs it).
    @Suite("Alerting rules")
    struct AlertingRulesTests {
        static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/prometheus")

        @Test func theRulesPassPromtoolCheck() throws {
            let output = try Shell.run("cd '\(Self.folder.path)' && promtool check rules alerts.yml")
            #expect(output.contains("SUCCESS"))
        }

        @Test func everyRuleHasAUnitTestAndTheyPass() throws {
            let output = try Shell.run("cd '\(Self.folder.path)' && promtool test rules alerts.test.yml")
            #expect(output.contains("SUCCESS"))
            // Each alert of alerts.yml is tested, firing at least once.
            let rules = try String(contentsOf: Self.folder.appendingPathComponent("alerts.yml"), encoding: .utf8)
            let tests = try String(contentsOf: Self.folder.appendingPathComponent("alerts.test.yml"), encoding: .utf8)
            let names = rules.matches(of: /- alert: (\w+)/).map { String($0.output.1) }
            #expect(names.count >= 11)
            for name in names {
                let firing = tests.components(separatedBy: "alertname: \(name)\n").dropFirst()
                    .contains { $0.hasPrefix("        exp_alerts:\n") }
                #expect(firing, "no test in alerts.test.yml sees \(name) fire")
            }
        }

        @Test func thePrometheusConfigurationLoadsTheRules() throws {
            // The compose file mounts alerts.yml at /etc/prometheus/alerts.yml; check the configuration with the
            // rules where they are here.
            let configuration = try String(
                contentsOf: Self.folder.appendingPathComponent("prometheus.yml"),
                encoding: .utf8
            )
            #expect(configuration.contains("- /etc/prometheus/alerts.yml"))
            #expect(configuration.contains("queue_consumer_count"))
            let local = FileManager.default.temporaryDirectory.appendingPathComponent("prometheus-\(UUID()).yml")
            try Data(
                configuration.replacingOccurrences(
                    of: "/etc/prometheus/alerts.yml",
                    with: Self.folder.appendingPathComponent("alerts.yml").path
                ).utf8
            ).write(to: local)
            defer { try? FileManager.default.removeItem(at: local) }
            let output = try Shell.run("promtool check config '\(local.path)'")
            #expect(output.contains("SUCCESS: 1 rule files found"))
        }
    }
}
