import CRMContract
import CRMSupport
import Foundation
import Testing

@testable import Alerts

@Suite("Retention playbook")
struct RulesPlaybookTests {
    @Test("the deploy playbook loads and falls back stage+tier → stage → tier → default")
    func deployFallbacks() throws {
        let playbook = try RulesAlertFixtures.deployPlaybook()
        #expect(playbook.action(stage: .termination, tier: .gold) == "win_back_call_with_offer")
        #expect(playbook.action(stage: .termination, tier: .bronze) == "win_back_email")
        #expect(playbook.action(stage: .maturity, tier: .gold) == "account_manager_check_in")
        #expect(playbook.action(stage: .maturity, tier: .bronze) == "review_and_contact")
        #expect(playbook.rule(stage: .maturity, tier: .bronze) == nil)
    }

    @Test("a stage rule beats a tier rule, and file order does not matter")
    func stageBeatsTier() {
        let rules = [
            RetentionPlaybook.Rule(tier: .gold, action: "gold_any_stage"),
            RetentionPlaybook.Rule(stage: .decline, action: "decline_any_tier"),
            RetentionPlaybook.Rule(stage: .decline, tier: .gold, action: "decline_gold"),
        ]
        for order in [rules, rules.reversed()] {
            let playbook = RetentionPlaybook(defaultAction: "default", rules: order)
            #expect(playbook.action(stage: .decline, tier: .gold) == "decline_gold")
            #expect(playbook.action(stage: .decline, tier: .silver) == "decline_any_tier")
            #expect(playbook.action(stage: .growth, tier: .gold) == "gold_any_stage")
            #expect(playbook.action(stage: .growth, tier: .silver) == "default")
        }
    }

    @Test(
        "invalid playbooks are refused with a reason",
        arguments: [
            #"{"schema":"retention-playbook.v2","default_action":"x","rules":[]}"#,
            #"{"schema":"retention-playbook.v1","rules":[]}"#,
            #"{"schema":"retention-playbook.v1","default_action":" ","rules":[]}"#,
            #"{"schema":"retention-playbook.v1","default_action":"x","rules":[{"stage":"declne","action":"y"}]}"#,
            #"{"schema":"retention-playbook.v1","default_action":"x","rules":[{"action":"y"}]}"#,
            #"{"schema":"retention-playbook.v1","default_action":"x","rules":[{"tier":"gold","action":""}]}"#,
            #"{"schema":"retention-playbook.v1","default_action":"x","#
                + #""rules":[{"tier":"gold","action":"a"},{"tier":"gold","action":"b"}]}"#,
        ]
    )
    func invalid(json: String) {
        #expect {
            try RetentionPlaybook(json: Data(json.utf8))
        } throws: { error in
            (error as? AlertRulesError)?.code == .invalidPlaybook
        }
    }

    @Test("the playbook round-trips through its JSON, as the database will store it")
    func roundTrip() throws {
        let playbook = try RulesAlertFixtures.deployPlaybook()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(playbook)
        #expect(try RetentionPlaybook(json: data) == playbook)
        #expect(String(decoding: data, as: UTF8.self).contains(#""schema":"retention-playbook.v1""#))
    }
}

/// The playbook built into the binaries is the shipped file, byte for byte (`scripts/embed-defaults.sh` writes it).
@Suite("Built-in retention playbook")
struct BuiltInPlaybookTests {
    @Test func theBuiltInPlaybookIsTheShippedFile() throws {
        let file = try String(contentsOf: RulesAlertFixtures.deployPlaybookURL, encoding: .utf8)
        #expect(DefaultRetentionPlaybook.json + "\n" == file, "run scripts/embed-defaults.sh")
        #expect(
            try RetentionPlaybook(json: Data(DefaultRetentionPlaybook.json.utf8))
                == (try RulesAlertFixtures.deployPlaybook())
        )
        #expect(try AlertsConfiguration(Settings([:])).playbookFile == nil)
    }
}
