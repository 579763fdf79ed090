import CRMContract
import CRMSupport
import Complaints
import Foundation
import Testing

@Suite("Priority table")
struct LogicPriorityTests {
    let policy = PriorityPolicy.standard

    @Test("A gold customer's medium complaint outranks a bronze customer's")
    func goldBeforeBronze() {
        let gold = policy.priority(severity: .medium, tier: .gold)
        let bronze = policy.priority(severity: .medium, tier: .bronze)
        #expect(gold == .p2)
        #expect(bronze == .p3)
        #expect(gold < bronze)
    }

    @Test("Critical is p1 for every tier, the unknown customer included", arguments: CustomerTier.allCases)
    func criticalIsP1(tier: CustomerTier) {
        #expect(policy.priority(severity: .critical, tier: tier) == .p1)
    }

    @Test("The documented table, cell by cell")
    func documentedTable() {
        let expected: [CustomerTier: [ComplaintPriority]] = [
            // critical, high, medium, low
            .gold: [.p1, .p1, .p2, .p3],
            .silver: [.p1, .p2, .p2, .p3],
            .bronze: [.p1, .p2, .p3, .p4],
            .unknown: [.p1, .p2, .p3, .p4],
        ]
        for (tier, row) in expected {
            let actual = [ComplaintSeverity.critical, .high, .medium, .low].map {
                policy.priority(severity: $0, tier: tier)
            }
            #expect(actual == row, "tier \(tier.rawValue)")
        }
    }

    @Test("The shipped rules file carries the same table")
    func fileMatchesDocumentation() throws {
        #expect(try Fixture.policy().rules.priority == .standard)
    }

    @Test("A table that makes a more serious or more valuable case wait longer is rejected")
    func nonMonotoneRejected() throws {
        var rules = try Fixture.policy().rules
        rules.priority.table[.gold]?[.high] = .p4
        rules.priority.table[.silver]?[.low] = nil
        let error = try #require(throws: ComplaintConfigurationError.self) { try ComplaintPolicy(rules: rules) }
        let locations = error.issues.map(\.location)
        #expect(locations.contains("priority.gold"))
        #expect(locations.contains("priority.silver"))
        #expect(Fixture.codes(error).allSatisfy { $0 == "invalid_value" })
    }

    @Test("The table decodes from and encodes to the JSON shape")
    func codable() throws {
        let json = #"{"_comment": "x", "gold": {"critical": "p1", "high": "p1", "medium": "p2", "low": "p3"}}"#
        let decoded = try JSONDecoder().decode(PriorityPolicy.self, from: Data(json.utf8))
        #expect(decoded.table == [.gold: [.critical: .p1, .high: .p1, .medium: .p2, .low: .p3]])
        let roundTrip = try JSONDecoder().decode(
            PriorityPolicy.self,
            from: JSONEncoder().encode(PriorityPolicy.standard)
        )
        #expect(roundTrip == .standard)
    }
}
