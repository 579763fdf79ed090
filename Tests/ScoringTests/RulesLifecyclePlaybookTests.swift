import CRMContract
import Foundation
import Testing

@testable import Scoring

/// The lifecycle playbook: lookup by event and tier, validation, and the built-in copy of the shipped file.
@Suite("Lifecycle playbook")
struct RulesLifecyclePlaybookTests {
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/lifecycle-playbook.json")

    @Test func theBuiltInPlaybookIsTheShippedFile() throws {
        let file = try String(contentsOf: Self.shipped, encoding: .utf8)
        #expect(DefaultLifecyclePlaybook.json + "\n" == file, "run scripts/embed-defaults.sh")
        #expect(try LifecyclePlaybook(json: Data(file.utf8)) == LifecyclePlaybook.builtIn)
    }

    @Test func theMostSpecificRuleWins() {
        let playbook = LifecyclePlaybook.builtIn
        #expect(playbook.action(stage: .maturity, tier: .gold) == "vip_reward")
        #expect(playbook.action(stage: .maturity, tier: .bronze) == "loyalty_reward")
        #expect(playbook.action(stage: .development, tier: .gold) == "second_purchase_nudge")
        #expect(playbook.action(stage: .recovery, tier: .silver) == "welcome_back")
        #expect(playbook.action(on: LifecyclePlaybook.purchaseDue, tier: .silver) == "repeat_purchase_reminder")
        let bare = LifecyclePlaybook(defaultAction: "none", rules: [])
        #expect(bare.action(stage: .growth, tier: .gold) == "none")
    }

    @Test func invalidPlaybooksAreRefusedNamingTheProblem() {
        let cases: [(String, String)] = [
            (#"{"schema": "lifecycle-playbook.v1", "default_action": " ", "rules": []}"#, "default_action is empty"),
            (
                #"{"schema": "lifecycle-playbook.v1", "default_action": "x", "rules": [{"on": "lost", "action": "a"}]}"#,
                "unknown on \"lost\""
            ),
            (
                #"{"schema": "lifecycle-playbook.v1", "default_action": "x", "rules": [{"on": "growth", "action": "a"}, {"on": "growth", "action": "b"}]}"#,
                "repeats growth/any tier"
            ),
            (
                #"{"schema": "retention-playbook.v1", "default_action": "x", "rules": []}"#,
                "unsupported playbook schema"
            ),
            (
                #"{"schema": "lifecycle-playbook.v1", "default_action": "x", "rules": [{"on": "growth", "tier": "platinum", "action": "a"}]}"#,
                "platinum"
            ),
        ]
        for (json, problem) in cases {
            do {
                _ = try LifecyclePlaybook(json: Data(json.utf8))
                Issue.record("accepted: \(json)")
            } catch let error as ScoringRulesError {
                #expect(error.context.contains(problem), "\(error.context)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func aRescoringAsOfThePastIsAReplay() {
        let now = Date()
        #expect(FullRescoring.isReplay(asOf: now.addingTimeInterval(-3_600), started: now))
        #expect(!FullRescoring.isReplay(asOf: now.addingTimeInterval(-30), started: now))
        #expect(!FullRescoring.isReplay(asOf: now, started: now))
    }
}
