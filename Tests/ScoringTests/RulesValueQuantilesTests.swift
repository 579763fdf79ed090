import Foundation
import Scoring
import Testing

/// The predicted values' distribution a model keeps, and the percentiles read from it.
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

    @Test("percentiles are within 0.1% of the exact share below, exact at the ends", arguments: [2, 57, 1_000, 25_000])
    func withinResolution(count: Int) throws {
        let values = Self.values(count)
        let quantiles = try #require(ValueQuantiles(values: values))
        #expect(quantiles.count == count)
        #expect(quantiles.breakpoints.count == min(count, ValueQuantiles.resolution + 1))
        let sorted = values.sorted()
        for value in values.prefix(500) + [sorted[0], sorted[count - 1], sorted[count / 2]] {
            let below = Double(sorted.filter { $0 < value }.count) / Double(count - 1)
            #expect(abs(quantiles.percentile(of: value) - below) <= 1.0 / Double(ValueQuantiles.resolution) + 1e-9)
        }
        #expect(quantiles.percentile(of: sorted[0]) == 0)
        #expect(quantiles.percentile(of: sorted[0] - 1) == 0)
        #expect(quantiles.percentile(of: sorted[count - 1] + 1) == 1)
    }

    @Test("no finite value: no quantiles; one value: everything else lies at 0 or 1")
    func degenerate() throws {
        #expect(ValueQuantiles(values: []) == nil)
        #expect(ValueQuantiles(values: [.nan, .infinity]) == nil)
        let one = try #require(ValueQuantiles(values: [42]))
        #expect(one.percentile(of: 42) == 0)
        #expect(one.percentile(of: 43) == 1)
    }

    @Test("they survive the model's JSON unchanged")
    func codable() throws {
        let quantiles = try #require(ValueQuantiles(values: Self.values(3_000)))
        let back = try JSONDecoder().decode(ValueQuantiles.self, from: try JSONEncoder().encode(quantiles))
        #expect(back == quantiles)
    }
}
