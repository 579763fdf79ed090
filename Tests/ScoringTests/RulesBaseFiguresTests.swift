import CRMSupport
import Foundation
import Testing

@testable import Scoring

@Suite("Base figures: concentration and cohorts")
struct RulesBaseFiguresTests {
    // MARK: - Concentration

    @Test("equal values: no concentration, the top fifth holds a fifth")
    func equalValues() {
        let measured = ValueConcentration([Double](repeating: 7, count: 10))
        #expect(abs(measured.gini) < 1e-12)
        #expect(abs(measured.top20Share - 0.2) < 1e-12)
        #expect(measured.total == 70)
    }

    @Test("one customer holds everything: Gini (n − 1) / n, the top fifth all of it")
    func oneHolder() {
        let measured = ValueConcentration([0, 0, 0, 0, 100])
        #expect(abs(measured.gini - 0.8) < 1e-12)
        #expect(measured.top20Share == 1)
    }

    @Test("Gini equals the mean absolute difference over twice the mean, computed pair by pair")
    func giniByDefinition() {
        var generator = SystemRandomNumberGenerator()
        let values = (0..<301).map { _ in Double.random(in: 0...1000, using: &generator).rounded() }
        let mean = values.reduce(0, +) / Double(values.count)
        var differences = 0.0
        for a in values { for b in values { differences += abs(a - b) } }
        let expected = differences / (2 * Double(values.count * values.count) * mean)
        #expect(abs(ValueConcentration(values.shuffled()).gini - expected) < 1e-9)
    }

    @Test("the top fifth is ⌈0.2 n⌉ customers, negatives count as zero, an empty base is 0")
    func topShare() {
        // n = 6: ⌈1.2⌉ = 2 customers, 50 + 30 of 100.
        #expect(abs(ValueConcentration([5, 10, 30, 50, 5, 0]).top20Share - 0.8) < 1e-12)
        let withRefunds = ValueConcentration([-40, 10, 30])
        #expect(withRefunds.total == 40)
        #expect(abs(withRefunds.top20Share - 0.75) < 1e-12)
        #expect(ValueConcentration([]).gini == 0)
        #expect(ValueConcentration([0, 0]).top20Share == 0)
    }

    // MARK: - Cohorts

    /// Days since 1970 of a UTC date.
    static func day(_ text: String) -> Int {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return Int(formatter.date(from: text)!.timeIntervalSince1970 / 86_400)
    }

    @Test("months of days across years, leap days and before 1970")
    func months() {
        #expect(CohortTally.month(ofDay: 0) == 0)
        #expect(CohortTally.month(ofDay: Self.day("1997-01-31")) == 27 * 12)
        #expect(CohortTally.month(ofDay: Self.day("1997-02-01")) == 27 * 12 + 1)
        #expect(CohortTally.month(ofDay: Self.day("2024-02-29")) == 54 * 12 + 1)
        #expect(CohortTally.month(ofDay: Self.day("2024-12-31")) == 54 * 12 + 11)
        #expect(CohortTally.month(ofDay: -1) == -1)
        #expect(CohortTally.label(month: 27 * 12) == "1997-01")
        #expect(CohortTally.label(month: 54 * 12 + 11) == "2024-12")
        #expect(CohortTally.label(month: -1) == "1969-12")
    }

    @Test("a cohort counts each customer once per month it bought in, whatever the order of its days")
    func cohortCounts() throws {
        var tally = CohortTally()
        // Three January customers: one back in February twice and in April, one back in March, one never.
        tally.add(purchaseDays: [
            Self.day("1997-04-02"), Self.day("1997-01-05"), Self.day("1997-02-01"),
            Self.day("1997-02-20"), Self.day("1997-01-05"),
        ])
        tally.add(purchaseDays: [Self.day("1997-01-31"), Self.day("1997-03-01")])
        tally.add(purchaseDays: [Self.day("1997-01-01")])
        // A February customer, and one without purchases (not counted).
        tally.add(purchaseDays: [Self.day("1997-02-14")])
        tally.add(purchaseDays: [Int]())
        let asOf = try #require(ISO8601DateFormatter().date(from: "1997-05-15T00:00:00Z"))
        let cohorts = tally.cohorts(asOf: asOf)
        #expect(cohorts.map(\.month) == ["1997-01", "1997-02"])
        #expect(cohorts[0].customers == 3)
        #expect(cohorts[0].active == [3, 1, 1, 1, 0])
        #expect(cohorts[1].customers == 1)
        #expect(cohorts[1].active == [1, 0, 0, 0])
    }
}
