import CRMContract
import CRMSupport
import Foundation
import Testing

@testable import Scoring

@Suite("RFM quintiles")
struct RulesRFMTests {
    private func scores(_ values: [Double], _ direction: ScoreDirection = .higherIsBetter) -> [Int] {
        let breakpoints = QuintileBreakpoints(values: values, direction: direction)
        return values.map(breakpoints.score)
    }

    @Test("ten distinct values fall two to a quintile")
    func distinctValues() {
        #expect(scores((1...10).map(Double.init)) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    }

    @Test("recency: fewer days scores higher")
    func recencyDirection() {
        #expect(scores((0...9).map(Double.init), .lowerIsBetter) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1])
    }

    @Test("ties share a score and a tie mass at the bottom scores 1")
    func ties() {
        // Six one-time buyers: 0 % strictly worse → 1. A 2 has 60 % worse → 4; a 4 has 80 % → 5.
        let frequencies: [Double] = [1, 1, 1, 1, 1, 1, 2, 3, 4, 5]
        #expect(scores(frequencies) == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5])
    }

    @Test("a tie group straddling a cut-off stays together below it")
    func tieAtCutoff() {
        // Values 8, 8, 8 hold ranks 8–10; only 70 % is strictly below them, so none reach 5.
        let values: [Double] = [1, 2, 3, 4, 5, 6, 7, 8, 8, 8]
        #expect(scores(values) == [1, 1, 2, 2, 3, 3, 4, 4, 4, 4])
    }

    @Test("tiny bases are deterministic")
    func tinyBases() {
        #expect(QuintileBreakpoints(values: [], direction: .higherIsBetter).score(42) == 1)
        #expect(scores([7]) == [1])
        #expect(scores([10, 20, 30]) == [1, 2, 4])
        #expect(scores([5, 5, 5, 5]) == [1, 1, 1, 1])
    }

    @Test("breakpoint lookup equals 1 + ⌊5 × share strictly worse⌋ on a tied random base")
    func lookupMatchesDefinition() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double((state >> 33) % 40)  // 40 distinct values: plenty of ties
        }
        for size in [1, 2, 3, 4, 5, 7, 11, 99, 250] {
            let values = (0..<size).map { _ in next() }
            let breakpoints = QuintileBreakpoints(values: values, direction: .higherIsBetter)
            for value in values + [-1, 100] {
                let worse = values.filter { $0 < value }.count
                #expect(breakpoints.score(value) == 1 + min(4, 5 * worse / size), "size \(size), value \(value)")
            }
        }
    }

    @Test("shares that are not binary fractions need the exact count below")
    func shareRounding() {
        #expect(RankThreshold.requiredWorseCount(share: 0.7, baseSize: 10) == 7)
        #expect(RankThreshold.requiredWorseCount(share: 1 - 0.2 - 0.3, baseSize: 100) == 50)
        #expect(RankThreshold.requiredWorseCount(share: 0.6, baseSize: 3) == 2)
    }

    @Test("cut-offs found by selection are the values a sort puts at the cut-off positions")
    func cutoffsBySelection() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ distinct: UInt64) -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double((state >> 33) % distinct) / 4
        }
        let shares = [0.8, 0.2, 0.5, 0.2, 1.0, 0.999]
        for size in [1, 2, 3, 6, 17, 1_000, 20_000] {
            for distinct: UInt64 in [1, 3, 50, 1 << 30] {
                let values = (0..<size).map { _ in next(distinct) } + [.nan, .infinity]
                for direction in [ScoreDirection.higherIsBetter, .lowerIsBetter] {
                    let finite = values.filter(\.isFinite)
                    let sorted = direction == .higherIsBetter ? finite.sorted(by: <) : finite.sorted(by: >)
                    let expected = shares.map { share in
                        sorted[
                            min(
                                max(RankThreshold.requiredWorseCount(share: share, baseSize: sorted.count), 1),
                                sorted.count
                            ) - 1
                        ]
                    }
                    let found = RankThreshold.cutoffs(values, direction: direction, shares: shares)
                    #expect(found == expected, "size \(size), \(distinct) distinct, \(direction)")
                }
            }
        }
        #expect(RankThreshold.cutoffs([Double.nan], direction: .higherIsBetter, shares: [0.5]) == [nil])
    }

    @Test("the scorer reads raw values from purchases and scores R, F and M")
    func scorer() throws {
        let asOf = RulesFixtures.asOf
        let base = try (1...10).map { index in
            try #require(
                RFMValues(
                    purchaseCount: index,
                    netValue: Double(index * 100),
                    lastPurchaseAt: RulesFixtures.daysAgo(Double(index * 10) + 0.5),
                    asOf: asOf
                )
            )
        }
        #expect(base[0].recencyDays == 10)
        let scorer = RFMScorer(base: base)
        #expect(scorer.score(base[9]) == RFMScore(r: 1, f: 5, m: 5))
        #expect(scorer.score(base[0]).code == "511")
        #expect(RFMValues(purchaseCount: 0, netValue: 0, lastPurchaseAt: nil, asOf: asOf) == nil)
    }

    @Test("monetary basis: average per purchase ranks differently from total")
    func monetaryBasis() {
        let big = RFMValues(recencyDays: 1, frequency: 10, monetaryTotal: 1_000)  // 100 per purchase
        let rich = RFMValues(recencyDays: 1, frequency: 1, monetaryTotal: 500)  // 500 per purchase
        let others = (1...8).map { RFMValues(recencyDays: 1, frequency: 2, monetaryTotal: Double($0) * 100 + 100) }
        let base = [big, rich] + others
        let byTotal = RFMScorer(base: base, settings: RFMSettings(monetaryBasis: .total))
        let byAverage = RFMScorer(base: base, settings: RFMSettings(monetaryBasis: .average))
        #expect(byTotal.score(big).m > byTotal.score(rich).m)
        #expect(byAverage.score(big).m < byAverage.score(rich).m)
    }

    @Test("breakpoints survive storage, and corrupt stored cut-offs are refused")
    func storage() throws {
        let breakpoints = RFMBreakpoints(
            base: (1...20).map { RFMValues(recencyDays: $0, frequency: $0, monetaryTotal: 9) }
        )
        let stored = try JSONEncoder().encode(breakpoints)
        #expect(try JSONDecoder().decode(RFMBreakpoints.self, from: stored) == breakpoints)

        let threeCutoffs = Data(#"{"direction":"higher_is_better","cutoffs":[1,2,3]}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(QuintileBreakpoints.self, from: threeCutoffs) }
        let wrongOrder = Data(#"{"direction":"lower_is_better","cutoffs":[1,2,3,4]}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(QuintileBreakpoints.self, from: wrongOrder) }
    }
}
