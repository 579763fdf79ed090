import Foundation
import Scoring
import Testing

/// The predicted values' distribution a model keeps, and the percentiles read from it (`FullRescoringTests` checks
/// the customer object's against the exact shares in PostgreSQL).
@Suite struct RulesValueQuantilesTests {
    /// Values with ties and a long tail, as predicted values are.
    static func values(_ count: Int) -> [Double] {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let uniform = Double(state >> 11) / Double(1 << 53)
            return (pow(uniform, 3) * 5_000).rounded() / 10
        }
    }

    @Test(
        "breakpoints are the quantiles: a share i ÷ 1000 of the values lies below the i-th",
        arguments: [2, 57, 1_000, 25_000]
    )
    func quantiles(count: Int) throws {
        let values = Self.values(count)
        let quantiles = try #require(ValueQuantiles(values: values))
        #expect(quantiles.count == count)
        let breakpoints = quantiles.breakpoints
        let intervals = breakpoints.count - 1
        #expect(intervals == min(count - 1, ValueQuantiles.resolution))
        #expect(breakpoints == breakpoints.sorted())
        let sorted = values.sorted()
        #expect(breakpoints.first == sorted.first)
        #expect(breakpoints.last == sorted.last)
        for (index, breakpoint) in breakpoints.enumerated() {
            let share = Double(index) / Double(intervals)
            let below = Double(sorted.filter { $0 < breakpoint }.count) / Double(count - 1)
            let atOrBelow = Double(sorted.filter { $0 <= breakpoint }.count - 1) / Double(count - 1)
            // The i-th breakpoint is the value at the position nearest i ÷ 1000 of the way: half a value either side.
            let slack = 0.5 / Double(count - 1) + 1e-9
            #expect(below <= share + slack && share <= atOrBelow + slack, "breakpoint \(index)")
        }
    }

    @Test("percentiles are within 0.1% of the exact share below, exact at the ends", arguments: [2, 57, 25_000])
    func percentiles(count: Int) throws {
        let values = Self.values(count).map { ($0 * 10_000).rounded() / 10_000 }
        let quantiles = try #require(ValueQuantiles(values: values))
        let sorted = values.sorted()
        for value in values.prefix(400) + [sorted[0], sorted[count - 1], sorted[count / 2]] {
            let below = Double(sorted.filter { $0 < value }.count) / Double(count - 1)
            // The breakpoints' resolution, half a value's position, and the four decimals written.
            let slack = 1.0 / Double(ValueQuantiles.resolution) + 0.5 / Double(count - 1) + 0.00005
            #expect(abs(quantiles.percentile(of: value) - below) <= slack, "\(value)")
        }
        #expect(quantiles.percentile(of: sorted[0]) == 0)
        #expect(quantiles.percentile(of: sorted[0] - 1) == 0)
        #expect(quantiles.percentile(of: sorted[count - 1] + 1) == 1)
    }

    @Test("no finite value: no quantiles; one value: one breakpoint")
    func degenerate() throws {
        #expect(ValueQuantiles(values: []) == nil)
        #expect(ValueQuantiles(values: [.nan, .infinity]) == nil)
        #expect(try #require(ValueQuantiles(values: [42])).breakpoints == [42])
    }

    @Test("they survive the model's JSON unchanged")
    func codable() throws {
        let quantiles = try #require(ValueQuantiles(values: Self.values(3_000)))
        let back = try JSONDecoder().decode(ValueQuantiles.self, from: try JSONEncoder().encode(quantiles))
        #expect(back == quantiles)
    }
}
