import CRMSchema
import Testing

@testable import Scoring

@Suite("RFM segments")
struct RulesSegmentTests {
    /// The map as docs/scoring.md prints it, row R = 5 first, columns FM = 1 to 5.
    static let documented: [[String]] = [
        ["new", "potential_loyalist", "potential_loyalist", "champions", "champions"],
        ["promising", "potential_loyalist", "potential_loyalist", "loyal", "loyal"],
        ["about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"],
        ["hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"],
        ["lost", "lost", "at_risk", "at_risk", "cannot_lose"],
    ]

    @Test("every R, F, M falls in the documented cell of R against ⌊(F + M) / 2⌋")
    func everyScoreTriple() {
        for r in 1...5 {
            for f in 1...5 {
                for m in 1...5 {
                    let fm = (f + m) / 2
                    #expect(RFMSegment(r: r, f: f, m: m).rawValue == Self.documented[5 - r][fm - 1], "\(r)\(f)\(m)")
                }
            }
        }
    }

    @Test("the eleven names of the interface, each reachable")
    func elevenNames() {
        let names = Set(RFMSegment.allCases.map(\.rawValue))
        #expect(
            names == [
                "champions", "loyal", "potential_loyalist", "new", "promising", "need_attention", "about_to_sleep",
                "at_risk", "cannot_lose", "hibernating", "lost",
            ]
        )
        var reached: Set<RFMSegment> = []
        for r in 1...5 { for f in 1...5 { for m in 1...5 { reached.insert(RFMSegment(r: r, f: f, m: m)) } } }
        #expect(reached.count == 11)
    }

    @Test("familiar customers land where an analyst expects them")
    func examples() {
        #expect(RFMScore(r: 5, f: 5, m: 5).segment == .champions)
        #expect(RFMScore(r: 5, f: 1, m: 1).segment == .new)
        #expect(RFMScore(r: 1, f: 5, m: 5).segment == .cannotLose)
        #expect(RFMScore(r: 1, f: 1, m: 1).segment == .lost)
        #expect(RFMScore(r: 2, f: 1, m: 2).segment == .hibernating)
        #expect(RFMScore(r: 3, f: 3, m: 3).segment == .needAttention)
        // FM rounds down: F 5 and M 3 average 4 (champions), F 4 and M 3 average 3.5 → 3 (potential loyalist).
        #expect(RFMScore(r: 5, f: 5, m: 3).segment == .champions)
        #expect(RFMScore(r: 5, f: 4, m: 3).segment == .potentialLoyalist)
        // Out-of-range scores are clamped rather than trapping.
        #expect(RFMSegment(r: 9, f: 0, m: 7) == RFMSegment(r: 5, f: 1, m: 5))
    }

    @Test("migration 13 backfills stored scores with the same map")
    func migrationUsesTheSameMap() throws {
        let migration = try #require(Schema.migrations.first { $0.version == 13 })
        let literal = RFMSegment.map.flatMap { $0 }.map { "'\($0.rawValue)'" }
        let sql = migration.sql.filter { !$0.isWhitespace }
        #expect(sql.contains("ARRAY[" + literal.joined(separator: ",") + "]"))
        #expect(sql.contains("[(5-rfm_r)*5+(rfm_f+rfm_m)/2]"))
    }
}
