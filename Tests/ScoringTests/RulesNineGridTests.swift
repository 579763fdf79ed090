import Testing

@testable import Scoring

@Suite("Nine-grid")
struct RulesNineGridTests {
    /// The documented tables, row by row: value high, mid, low; columns second axis high, mid, low.
    private static let profitabilityTable: [[GridStrategy]] = [
        [.invest, .maintain, .reduceCost],
        [.develop, .maintain, .reduceCost],
        [.develop, .reduceCost, .exit],
    ]
    private static let growthTable: [[GridStrategy]] = [
        [.invest, .maintain, .maintain],
        [.develop, .maintain, .reduceCost],
        [.develop, .reduceCost, .exit],
    ]
    private static let levels: [GridLevel] = [.high, .mid, .low]

    @Test("every cell carries the strategy of its documented table", arguments: [GridAxis.profitability, .growth])
    func strategies(axis: GridAxis) {
        let table = axis == .profitability ? Self.profitabilityTable : Self.growthTable
        for (row, value) in Self.levels.enumerated() {
            for (column, second) in Self.levels.enumerated() {
                let cell = NineGridCell(value: value, second: second, axis: axis)
                #expect(cell.strategy == table[row][column], "\(axis) \(cell.id)")
            }
        }
    }

    @Test("cell ids are <value>-<second> and parse back")
    func ids() {
        let cell = NineGridCell(value: .high, second: .low, axis: .growth)
        #expect(cell.id == "high-low")
        #expect(NineGridCell(id: "high-low", axis: .growth) == cell)
        #expect(NineGridCell(id: "high-", axis: .growth) == nil)
        #expect(NineGridCell(id: "top-low", axis: .growth) == nil)
        #expect(GridStrategy.reduceCost.rawValue == "reduce_cost")
        // Every cell's id and place among the nine, each one of its own.
        let cells = GridLevel.allCases.flatMap { value in
            GridLevel.allCases.map { NineGridCell(value: value, second: $0, axis: .profitability) }
        }
        #expect(cells.map(\.id) == cells.map { "\($0.value.rawValue)-\($0.second.rawValue)" })
        #expect(cells.map(\.index) == Array(0..<9))
        #expect(cells.allSatisfy { NineGridCell(id: $0.id, axis: .profitability) == $0 })
    }

    @Test(
        "profitability levels: high from 30 %, low below 10 %",
        arguments: [(0.30, GridLevel.high), (0.2999, .mid), (0.10, .mid), (0.0999, .low), (-0.2, .low)]
    )
    func profitabilityLevels(rate: Double, level: GridLevel) {
        let tiering = ValueTiering(base: [CLVFigures]())
        #expect(tiering.profitabilityLevel(rate) == level)
    }

    @Test("placement uses margin where cost is known and the value trend where not")
    func placement() {
        let base = (1...10).map { CLVFigures(historical: Double($0), simple: 0, predicted: Double($0) * 10) }
        let tiering = ValueTiering(base: base)
        let top = base[9]

        let profitable = tiering.place(top, marginRate: 0.35, trend: .falling)
        #expect(profitable.tier == .gold)
        #expect(profitable.cell == NineGridCell(value: .high, second: .high, axis: .profitability))
        #expect(profitable.strategy == .invest)
        #expect(profitable.value == 100 && profitable.valueBasis == .predicted)

        let slipping = tiering.place(top, marginRate: nil, trend: .falling)
        #expect(slipping.cell.id == "high-low" && slipping.cell.axis == .growth && slipping.strategy == .maintain)

        let smallNew = tiering.place(base[0], marginRate: nil, trend: nil)
        #expect(smallNew.tier == .bronze && smallNew.cell.id == "low-mid" && smallNew.strategy == .reduceCost)

        let thinMargin = tiering.place(base[0], marginRate: 0.02, trend: .rising)
        #expect(thinMargin.cell.id == "low-low" && thinMargin.strategy == .exit)
    }
}
