import CRMContract
import Foundation

/// Gathers a ``BaseReport`` while a full rescoring scores the base: one ``add(_:rescored:)`` per customer, in the
/// loop that stages the scores, so the report costs no second pass over the base and no read of it.
///
/// Counts go into arrays indexed by stage, tier and cell rather than dictionaries keyed by name: this runs a million
/// times per rescoring. Historical values are kept (8 bytes a customer) for the concentration figures, which need
/// them sorted.
struct BaseReportBuilder {
    /// How many gold entrants and leavers the report names.
    static let moversShown = 20

    private let asOf: Date
    /// The spend model that turns expected purchases into expected revenue.
    private let spend: GammaGamma?
    private let previousAsOf: Date?
    var cohorts = CohortTally()

    private var scored = 0
    private var customers = 0
    private var repeatCustomers = 0
    private var historical: [Double] = []
    private var historicalTotal = 0.0
    private var predictedTotal: Double?
    private var expectedTransactions: Double?
    private var expectedRevenue: Double?
    private var stages = CaseCounts<LifecycleStage>()
    private var tiers = CaseCounts<ValueTier>()
    private var cells = [Cell](repeating: Cell(), count: 9)
    private var axes = CaseCounts<GridAxis>()
    /// Moves by index: from (the tier's or stage's index, or the last row for customers new since) to.
    private var tierMoves: [[Int]]
    private var stageMoves: [[Int]]
    private var goldEntered = 0
    private var goldLeft = 0
    private var entrants: [(key: Double, mover: BaseReport.Mover)] = []
    private var leavers: [(key: Double, mover: BaseReport.Mover)] = []

    private struct Cell {
        var customers = 0
        var historical = 0.0
        var predicted = 0.0
        var strategies = CaseCounts<GridStrategy>()
    }

    /// A report as of `asOf`; `previousAsOf` is the as-of time of the previous full rescoring (nil for the first:
    /// no transitions), `spend` the fitted spend model, `capacity` the number of customers to expect.
    init(asOf: Date, previousAsOf: Date?, spend: GammaGamma?, capacity: Int = 0) {
        self.asOf = asOf
        self.previousAsOf = previousAsOf
        self.spend = spend
        historical.reserveCapacity(capacity)
        tierMoves = [[Int]](
            repeating: [Int](repeating: 0, count: ValueTier.allCases.count),
            count: ValueTier.allCases.count + 1
        )
        stageMoves = [[Int]](
            repeating: [Int](repeating: 0, count: LifecycleStage.allCases.count),
            count: LifecycleStage.allCases.count + 1
        )
    }

    /// Counts one scored customer; `rescored` is its tier and stage at the previous full rescoring.
    mutating func add(_ score: CustomerScore, rescored: (tier: ValueTier, stage: LifecycleStage)?) {
        scored += 1
        let stage = stages.index(of: score.stage)
        let tier = tiers.index(of: score.tier)
        stages.add(score.stage)
        tiers.add(score.tier)
        if previousAsOf != nil {
            tierMoves[rescored.map { tiers.index(of: $0.tier) } ?? ValueTier.allCases.count][tier] += 1
            stageMoves[rescored.map { stages.index(of: $0.stage) } ?? LifecycleStage.allCases.count][stage] += 1
            let wasGold = rescored?.tier == .gold
            if wasGold != (score.tier == .gold) {
                if wasGold {
                    goldLeft += 1
                    Self.keepTop(&leavers, mover(score, rescored: rescored))
                } else {
                    goldEntered += 1
                    Self.keepTop(&entrants, mover(score, rescored: rescored))
                }
            }
        }
        let activity = score.activity
        guard activity.orderCount > 0 else { return }
        customers += 1
        if activity.transactions >= 2 { repeatCustomers += 1 }
        historical.append(score.clv.historical)
        historicalTotal += score.clv.historical
        if let predicted = score.clv.predicted, predicted.isFinite {
            predictedTotal = (predictedTotal ?? 0) + predicted
        }
        if let expected = score.expectedPurchases90d, expected.isFinite {
            expectedTransactions = (expectedTransactions ?? 0) + expected
            if let spend, let summary = activity.summary {
                let perTransaction = spend.conditionalExpectedAverageSpend(summary)
                if perTransaction.isFinite { expectedRevenue = (expectedRevenue ?? 0) + expected * perTransaction }
            }
        }
        if let grid = score.grid {
            let index = grid.index
            cells[index].customers += 1
            cells[index].historical += score.clv.historical
            cells[index].predicted += score.clv.predicted ?? 0
            cells[index].strategies.add(grid.strategy)
            axes.add(grid.axis)
        }
    }

    /// The report, with the given model id.
    func finish(modelID: Int64?) -> BaseReport {
        let concentration = ValueConcentration(historical)
        let axis =
            axes.counted.max { $0.value < $1.value || ($0.value == $1.value && $0.key == .profitability) }?.key
            ?? .growth
        var grid: [String: BaseReport.GridCell] = [:]
        for value in GridLevel.allCases {
            for second in GridLevel.allCases {
                let cell = NineGridCell(value: value, second: second, axis: axis)
                let counted = cells[cell.index]
                let strategy =
                    counted.strategies.counted.max {
                        $0.value < $1.value || ($0.value == $1.value && $0.key != cell.strategy)
                    }?
                    .key ?? cell.strategy
                grid[cell.id] = BaseReport.GridCell(
                    customers: counted.customers,
                    historicalTotal: BaseReport.money(counted.historical),
                    predictedTotal: BaseReport.money(counted.predicted),
                    strategy: strategy.rawValue
                )
            }
        }
        func names<T: RawRepresentable<String>>(_ cases: [T], _ counts: [Int]) -> [String: Int] {
            Dictionary(uniqueKeysWithValues: zip(cases.map(\.rawValue), counts))
        }
        func matrix<T: RawRepresentable<String>>(_ cases: [T], _ moves: [[Int]]) -> [String: [String: Int]] {
            var result: [String: [String: Int]] = [:]
            for (index, row) in moves.enumerated() where row.contains(where: { $0 > 0 }) {
                let from = index < cases.count ? cases[index].rawValue : "new"
                result[from] = Dictionary(
                    uniqueKeysWithValues: zip(cases.map(\.rawValue), row).filter { $0.1 > 0 }
                )
            }
            return result
        }
        return BaseReport(
            asOf: Timestamp(asOf),
            modelID: modelID,
            customers: customers,
            scored: scored,
            repeatCustomers: repeatCustomers,
            repeatRate: customers > 0 ? Double(repeatCustomers) / Double(customers) : 0,
            value: BaseReport.Value(
                historicalTotal: BaseReport.money(historicalTotal),
                predictedTotal: predictedTotal.map(BaseReport.money),
                top20Share: concentration.top20Share,
                gini: concentration.gini
            ),
            forecast90d: expectedTransactions.map { transactions in
                BaseReport.Forecast(transactions: transactions, revenue: expectedRevenue.map(BaseReport.money))
            },
            cohorts: cohorts.cohorts(asOf: asOf),
            stages: names(LifecycleStage.allCases, stages.counts),
            tiers: names(ValueTier.allCases, tiers.counts),
            grid: grid,
            transitions: previousAsOf.map { previous in
                BaseReport.Transitions(
                    previousAsOf: Timestamp(previous),
                    tiers: matrix(ValueTier.allCases, tierMoves),
                    stages: matrix(LifecycleStage.allCases, stageMoves),
                    goldEntered: goldEntered,
                    goldLeft: goldLeft,
                    goldEntrants: entrants.map(\.mover),
                    goldLeavers: leavers.map(\.mover)
                )
            }
        )
    }

    private func mover(_ score: CustomerScore, rescored: (tier: ValueTier, stage: LifecycleStage)?) -> BaseReport.Mover
    {
        BaseReport.Mover(
            customerID: score.customerID,
            previousTier: rescored?.tier.rawValue,
            tier: score.tier.rawValue,
            previousLifecycleStage: rescored?.stage.rawValue,
            lifecycleStage: score.stage.rawValue,
            lifecycleRule: score.lifecycle.rawValue,
            clvPredicted: score.clv.predicted.map { String(format: "%.4f", $0) },
            pAlive: score.pAlive
        )
    }

    /// Keeps the ``moversShown`` most valuable movers, most valuable first (ties by customer id).
    private static func keepTop(_ list: inout [(key: Double, mover: BaseReport.Mover)], _ mover: BaseReport.Mover) {
        let key = mover.clvPredicted.flatMap(Double.init) ?? -.infinity
        func before(_ a: (key: Double, mover: BaseReport.Mover), _ b: (key: Double, mover: BaseReport.Mover)) -> Bool {
            a.key > b.key
                || (a.key == b.key && a.mover.customerID.utf8.lexicographicallyPrecedes(b.mover.customerID.utf8))
        }
        let entry = (key: key, mover: mover)
        if list.count == moversShown, let last = list.last, !before(entry, last) { return }
        let position = list.firstIndex { before(entry, $0) } ?? list.count
        list.insert(entry, at: position)
        if list.count > moversShown { list.removeLast() }
    }
}
