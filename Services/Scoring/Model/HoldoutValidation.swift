import Foundation

/// How well each purchase model predicted what customers did next: every model fitted on the calibration period,
/// each calibration customer's expected transactions in the holdout period set against the ones they made.
///
/// Keys are the interface's (`crm model validate --json`): `calibration_end`, `holdout_end`, `holdout_weeks`,
/// `customers`, and `models` keyed by model name, each with `params`, `total_predicted`, `total_actual`, `mae`,
/// `rmse` and `by_frequency`. Dates are encoded by the encoder's date strategy.
public struct HoldoutValidation: Sendable, Hashable, Codable {
    /// Calibration customers with the same number of repeat transactions in the calibration period (the last group
    /// holding ``HoldoutValidation/lastFrequencyGroup`` and more): the paper's conditional-expectation table.
    public struct FrequencyGroup: Sendable, Hashable, Codable {
        /// Repeat transactions in the calibration period; the last group is "this many or more".
        public var x: Int
        /// Calibration customers in the group.
        public var customers: Int
        /// Their mean transactions in the holdout period.
        public var actualMean: Double
        /// The model's mean conditional expectation of them.
        public var predictedMean: Double

        enum CodingKeys: String, CodingKey {
            case x, customers
            case actualMean = "actual_mean"
            case predictedMean = "predicted_mean"
        }
    }

    /// One model's fit on the calibration period and its errors in the holdout period.
    public struct ModelResult: Sendable, Hashable, Codable {
        /// The parameters fitted on the calibration period, by name.
        public var params: [String: Double]
        /// Log-likelihood of the calibration period at them.
        public var logLikelihood: Double
        /// Σ over calibration customers of the expected holdout transactions.
        public var totalPredicted: Double
        /// Σ of the transactions they made.
        public var totalActual: Int
        /// Mean absolute error per customer.
        public var mae: Double
        /// Root mean squared error per customer.
        public var rmse: Double
        /// Actual against predicted by calibration repeat transactions.
        public var byFrequency: [FrequencyGroup]

        enum CodingKeys: String, CodingKey {
            case params, mae, rmse
            case logLikelihood = "log_likelihood"
            case totalPredicted = "total_predicted"
            case totalActual = "total_actual"
            case byFrequency = "by_frequency"
        }
    }

    /// The last group of ``FrequencyGroup``: 7 repeat transactions and more.
    public static let lastFrequencyGroup = 7

    /// The end of the calibration period: orders at or before it are the models' data.
    public var calibrationEnd: Date
    /// The end of the holdout period.
    public var holdoutEnd: Date
    /// Length of the holdout period in weeks (whole days from the calibration end's day to the holdout end's).
    public var holdoutWeeks: Double
    /// Calibration customers: those whose first purchase is at or before the calibration end.
    public var customers: Int
    /// Each model that could be fitted, by its name (``PurchaseModelKind/rawValue``).
    public var models: [String: ModelResult]
    /// Each model that could not be fitted, with the reason (e.g. `degenerate`: no repeat purchase at all).
    public var failures: [String: String]

    enum CodingKeys: String, CodingKey {
        case customers, models, failures
        case calibrationEnd = "calibration_end"
        case holdoutEnd = "holdout_end"
        case holdoutWeeks = "holdout_weeks"
    }

    /// A validation from its parts.
    public init(
        calibrationEnd: Date,
        holdoutEnd: Date,
        holdoutWeeks: Double,
        customers: Int,
        models: [String: ModelResult],
        failures: [String: String] = [:]
    ) {
        self.calibrationEnd = calibrationEnd
        self.holdoutEnd = holdoutEnd
        self.holdoutWeeks = holdoutWeeks
        self.customers = customers
        self.models = models
        self.failures = failures
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        calibrationEnd = try container.decode(Date.self, forKey: .calibrationEnd)
        holdoutEnd = try container.decode(Date.self, forKey: .holdoutEnd)
        holdoutWeeks = try container.decode(Double.self, forKey: .holdoutWeeks)
        customers = try container.decode(Int.self, forKey: .customers)
        models = try container.decode([String: ModelResult].self, forKey: .models)
        failures = try container.decode(.failures, default: [:])
    }

    /// The model of the lowest mean absolute error, the first of ``PurchaseModelKind/allCases`` on a tie; nil when
    /// none could be fitted.
    public var lowestError: PurchaseModelKind? {
        lowestError(among: PurchaseModelKind.allCases)
    }

    /// ``lowestError`` among `kinds` only.
    public func lowestError(among kinds: [PurchaseModelKind]) -> PurchaseModelKind? {
        var best: (kind: PurchaseModelKind, mae: Double)?
        for kind in PurchaseModelKind.allCases where kinds.contains(kind) {
            guard let mae = models[kind.rawValue]?.mae, mae.isFinite else { continue }
            if best.map({ mae < $0.mae }) ?? true { best = (kind, mae) }
        }
        return best?.kind
    }

    /// The result of `kind`, when it could be fitted.
    public subscript(kind: PurchaseModelKind) -> ModelResult? {
        models[kind.rawValue]
    }
}

// MARK: - Running

extension HoldoutValidation {
    /// Fits each of `kinds` on the calibration summaries of `histories`, predicts every calibration customer's
    /// transactions over the holdout period and compares them with the actual ones.
    ///
    /// `holdoutDays` is the holdout period in whole days (the calibration summaries' ages are whole days too), and
    /// `unit` the models' time unit. A model that cannot be fitted is listed in ``failures``. The fits start from
    /// the models of `startingFrom` where one of the same kind is given (a recent fit on the whole base: near the
    /// calibration period's optimum), besides their usual starts.
    public static func run(
        _ histories: [HoldoutHistory],
        calibrationEnd: Date,
        holdoutEnd: Date,
        holdoutDays: Int,
        unit: TimeUnit = .week,
        kinds: [PurchaseModelKind] = PurchaseModelKind.allCases,
        startingFrom known: [any PurchaseModel] = []
    ) -> HoldoutValidation {
        let summaries = histories.map(\.calibration)
        let actual = histories.map(\.holdoutTransactions)
        let horizon = Double(holdoutDays) / unit.days
        var validation = HoldoutValidation(
            calibrationEnd: calibrationEnd,
            holdoutEnd: holdoutEnd,
            holdoutWeeks: Double(holdoutDays) / 7,
            customers: histories.count,
            models: [:]
        )
        let histories = DistinctHistories(summaries)
        func start<Model: PurchaseModel>(_ type: Model.Type) -> Model? {
            known.lazy.compactMap { $0 as? Model }.first
        }
        // One compression for the three models, as in a full rescoring.
        let sample = Result { () throws(ModelFitError) in try BGNBDSample(summaries) }
        for kind in kinds {
            do throws(ModelFitError) {
                let result: ModelResult
                switch kind {
                case .bgnbd:
                    let fit = try BGNBD.fit(sample.get(), from: start(BGNBD.self))
                    result = measure(fit, summaries, histories, actual, horizon: horizon)
                case .mbgnbd:
                    let fit = try MBGNBD.fit(sample.get(), from: start(MBGNBD.self))
                    result = measure(fit, summaries, histories, actual, horizon: horizon)
                case .paretoNBD:
                    let fit = try ParetoNBD.fit(sample.get(), from: start(ParetoNBD.self))
                    result = measure(fit, summaries, histories, actual, horizon: horizon)
                }
                validation.models[kind.rawValue] = result
            } catch {
                validation.failures[kind.rawValue] = error.code.rawValue
            }
        }
        return validation
    }

    /// One fitted model's predictions over `horizon` model time units against `actual`.
    static func measure<Model: PurchaseModel>(
        _ fit: ModelFit<Model>,
        _ summaries: [TransactionSummary],
        _ histories: DistinctHistories,
        _ actual: [Int],
        horizon: Double
    ) -> ModelResult {
        let predicted = fit.model.conditionalExpectedPurchases(t: horizon, for: summaries, histories: histories)
        var groups = [(customers: Int, actual: Double, predicted: Double)](
            repeating: (0, 0, 0),
            count: lastFrequencyGroup + 1
        )
        var (totalPredicted, absolute, squared, totalActual) = (0.0, 0.0, 0.0, 0)
        for (index, summary) in summaries.enumerated() {
            let (expected, made) = (predicted[index], actual[index])
            let error = expected - Double(made)
            totalPredicted += expected
            totalActual += made
            absolute += abs(error)
            squared += error * error
            let group = min(summary.frequency, lastFrequencyGroup)
            groups[group].customers += 1
            groups[group].actual += Double(made)
            groups[group].predicted += expected
        }
        let count = Double(max(summaries.count, 1))
        return ModelResult(
            params: fit.model.namedParameters,
            logLikelihood: fit.logLikelihood,
            totalPredicted: totalPredicted,
            totalActual: totalActual,
            mae: absolute / count,
            rmse: (squared / count).squareRoot(),
            byFrequency: groups.enumerated().compactMap { x, group in
                guard group.customers > 0 else { return nil }
                let customers = Double(group.customers)
                return FrequencyGroup(
                    x: x,
                    customers: group.customers,
                    actualMean: group.actual / customers,
                    predictedMean: group.predicted / customers
                )
            }
        )
    }
}
