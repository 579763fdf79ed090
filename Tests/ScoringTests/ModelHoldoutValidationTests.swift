import CRMContract
import Foundation
import Scoring
import Testing

/// The holdout validation of the purchase models, checked against figures this file computes itself from the CDNOW
/// sample: the classic split at 1997-09-30 with 39 weeks of holdout to 1998-06-30.
@Suite("Holdout validation")
struct ModelHoldoutValidationTests {
    /// 1998-06-30, the end of the CDNOW data, as a day number.
    static let holdoutEndDay = CDNOW.dayNumber(yyyymmdd: 19_980_630)
    /// The last instants of the calibration end's and the holdout end's days, in seconds since 1970.
    static let calibrationEnd = Double(CDNOW.calibrationEnd + 1) * 86_400 - 0.001
    static let holdoutEnd = Double(holdoutEndDay + 1) * 86_400 - 0.001

    /// Each sample customer's purchase days in the holdout, counted straight from the file's dates.
    static func holdoutTransactions() throws -> [Int] {
        try CDNOW.samplePurchases().map { purchases in
            Set(purchases.map(\.day).filter { $0 > CDNOW.calibrationEnd && $0 <= holdoutEndDay }).count
        }
    }

    /// The sample split at the calibration end, each purchase at noon of its day.
    static func histories() throws -> [HoldoutHistory] {
        try CDNOW.samplePurchases().compactMap { purchases in
            HoldoutHistory(
                purchaseTimes: purchases.map { Double($0.day) * 86_400 + 43_200 },
                calibrationEnd: calibrationEnd,
                holdoutEnd: holdoutEnd,
                unit: .week
            )
        }
    }

    static let validation = Result {
        HoldoutValidation.run(
            try histories(),
            calibrationEnd: Date(timeIntervalSince1970: calibrationEnd),
            holdoutEnd: Date(timeIntervalSince1970: holdoutEnd),
            holdoutDays: holdoutEndDay - CDNOW.calibrationEnd,
            unit: .week
        )
    }

    @Test("the CDNOW split: 2,357 calibration customers, 39 weeks, their calibration summaries")
    func split() throws {
        let histories = try Self.histories()
        #expect(histories.count == 2357)
        // The calibration summaries are the model tests' (without the spend, which the validation does not use).
        #expect(
            histories.map(\.calibration)
                == (try CDNOW.sampleSummaries()).map {
                    TransactionSummary(frequency: $0.frequency, recency: $0.recency, age: $0.age)
                }
        )
        #expect(histories.map(\.holdoutTransactions) == (try Self.holdoutTransactions()))
        let validation = try Self.validation.get()
        #expect(validation.holdoutWeeks == 39)
        #expect(validation.customers == 2357)
        #expect(validation.failures.isEmpty)
    }

    /// The model fitted on the calibration summaries, as the model tests fit it.
    static func fitted(_ kind: PurchaseModelKind) throws -> any PurchaseModel {
        switch kind {
        case .bgnbd: try CDNOW.fittedBGNBD.get().model
        case .mbgnbd: try CDNOW.fittedMBGNBD.get().model
        case .paretoNBD: try CDNOW.fittedParetoNBD.get().model
        }
    }

    @Test(
        "each model's totals, errors and by-frequency table equal its fit's predictions against the file's counts",
        arguments: PurchaseModelKind.allCases
    )
    func figures(kind: PurchaseModelKind) throws {
        let summaries = try CDNOW.sampleSummaries()
        let actual = try Self.holdoutTransactions()
        let model = try Self.fitted(kind)
        let predicted = summaries.map { model.conditionalExpectedPurchases(t: 39, for: $0) }
        let result = try #require(try Self.validation.get()[kind])

        #expect(result.params == model.namedParameters)
        #expect(result.totalActual == actual.reduce(0, +))
        #expect(result.totalActual == 1882)  // distinct (customer, day) after 1997-09-30 in the file, as awk counts
        #expect(abs(result.totalPredicted - predicted.reduce(0, +)) < 1e-9 * result.totalPredicted)
        let errors = zip(predicted, actual).map { $0 - Double($1) }
        let mae = errors.map(abs).reduce(0, +) / Double(errors.count)
        let rmse = (errors.map { $0 * $0 }.reduce(0, +) / Double(errors.count)).squareRoot()
        #expect(abs(result.mae - mae) < 1e-12)
        #expect(abs(result.rmse - rmse) < 1e-12)

        // The conditional-expectation table: groups x = 0…6 and 7+, with the customers' mean actual and predicted.
        let groups = Dictionary(grouping: summaries.indices) { min(summaries[$0].frequency, 7) }
        #expect(result.byFrequency.map(\.x) == groups.keys.sorted())
        for row in result.byFrequency {
            let members = try #require(groups[row.x])
            #expect(row.customers == members.count)
            let actualMean = Double(members.map { actual[$0] }.reduce(0, +)) / Double(members.count)
            let predictedMean = members.map { predicted[$0] }.reduce(0, +) / Double(members.count)
            #expect(abs(row.actualMean - actualMean) < 1e-12, "x = \(row.x)")
            #expect(abs(row.predictedMean - predictedMean) < 1e-9 * max(predictedMean, 1), "x = \(row.x)")
        }
        // A plausible model of this sample: the total within a fifth of what happened.
        #expect(abs(result.totalPredicted / Double(result.totalActual) - 1) < 0.2)
    }

    @Test("the lowest error picks among the fitted models only, the interface's order breaking ties")
    func lowestError() throws {
        let validation = try Self.validation.get()
        let errors = PurchaseModelKind.allCases.map { (kind: $0, mae: validation[$0]!.mae) }
        let best = errors.min { $0.mae < $1.mae }!.kind
        #expect(validation.lowestError == best)
        let others = PurchaseModelKind.allCases.filter { $0 != best }
        let second = errors.filter { $0.kind != best }.min { $0.mae < $1.mae }!.kind
        #expect(validation.lowestError(among: others) == second)
        #expect(validation.lowestError(among: []) == nil)
        var tied = validation
        for kind in PurchaseModelKind.allCases { tied.models[kind.rawValue]?.mae = 0.5 }
        #expect(tied.lowestError == .bgnbd)
    }

    @Test("a split history: same-day purchases, the calibration end's own day, purchases after the holdout end")
    func splitHistory() throws {
        let day = 86_400.0
        let end = 100 * day + 50_000  // the calibration end: day 100, 13:53
        func history(_ times: [Double]) -> HoldoutHistory? {
            HoldoutHistory(purchaseTimes: times, calibrationEnd: end, holdoutEnd: 200 * day, unit: .week)
        }
        // Nothing by the calibration end: not a calibration customer.
        #expect(history([150 * day]) == nil)
        #expect(history([]) == nil)
        // Days 30 (twice), 65 and 100 (before and after the end): 2 repeats; day 100's later purchase is day 100.
        let split = try #require(
            history([65 * day, 30 * day + 10, 100 * day + 60_000, 30 * day + 20, 100 * day + 10, 120 * day, 199 * day])
        )
        #expect(split.calibration.frequency == 2)
        #expect(split.calibration.recency == 70.0 / 7)
        #expect(split.calibration.age == 70.0 / 7)
        #expect(split.holdoutTransactions == 2)  // days 120 and 199
        // A purchase after the holdout end does not count; one on the end's day before it does.
        let late = try #require(history([10 * day, 200 * day + 1]))
        #expect(late.holdoutTransactions == 0)
        #expect(late.calibration == TransactionSummary(frequency: 0, recency: 0, age: 90.0 / 7))
    }

    @Test("the JSON keys of the interface")
    func json() throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        let object = try #require(
            try JSONSerialization.jsonObject(with: encoder.encode(Self.validation.get())) as? [String: Any]
        )
        #expect(
            Set(object.keys) == ["calibration_end", "holdout_end", "holdout_weeks", "customers", "models", "failures"]
        )
        let models = try #require(object["models"] as? [String: [String: Any]])
        #expect(Set(models.keys) == ["bgnbd", "mbgnbd", "pareto_nbd"])
        for (name, model) in models {
            #expect(
                Set(model.keys)
                    == ["params", "log_likelihood", "total_predicted", "total_actual", "mae", "rmse", "by_frequency"],
                "\(name)"
            )
            let rows = try #require(model["by_frequency"] as? [[String: Any]])
            #expect(rows.map { $0["x"] as? Int } == Array(0...7))
            #expect(rows.allSatisfy { Set($0.keys) == ["x", "customers", "actual_mean", "predicted_mean"] })
        }
        let pareto = try #require(models["pareto_nbd"]?["params"] as? [String: Double])
        #expect(Set(pareto.keys) == ["r", "alpha", "s", "beta"])
    }
}
