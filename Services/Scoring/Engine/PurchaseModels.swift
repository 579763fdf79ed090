import CRMContract
import CRMPostgres
import CRMSupport
import Foundation
import Logging
import Metrics
import Synchronization

/// The models of a full rescoring: BG/NBD, MBG/NBD and Pareto/NBD fitted on the same compressed histories, and
/// Gamma-Gamma on the repeat buyers; where a fit fails, the previous model's fit stays in use; then the purchase
/// model the scores carry is selected (`CRM_SCORING_MODEL`).
enum PurchaseModels {
    /// Fits every model of `kinds` on `summaries` into `model` (a base smaller than the settings' minimum is left
    /// without models, as before any fit); a failed fit keeps `previous`'s when its time unit is the same, and so
    /// does a purchase model left out of `kinds` (a benchmark's measure of what the others cost). The fits are
    /// independent and run side by side (``fitSideBySide(_:spenders:previous:kinds:measuring:)``); each one's
    /// seconds go into the model's statistics (`seconds.fit.<model>`). The models of `deferred` (of `kinds`) are
    /// fitted on a thread of their own beside whatever the caller does next, and hold `previous`'s fit until
    /// ``DeferredFits/finish(into:)`` puts theirs in place. A failed fit is noted in ``ScoringModel/fitFailures``.
    /// Returns the deferred fits.
    static func fit(
        _ model: inout ScoringModel,
        summaries: [TransactionSummary],
        previous: ScoringModel?,
        kinds: [PurchaseModelKind] = PurchaseModelKind.allCases,
        deferring deferred: [PurchaseModelKind] = []
    ) -> DeferredFits? {
        guard summaries.count >= model.settings.minimumFitCustomers else { return nil }
        let previous = previous.flatMap { $0.settings.timeUnitDays == model.settings.timeUnitDays ? $0 : nil }
        let deferred = deferred.filter(kinds.contains)
        let now = kinds.filter { !deferred.contains($0) }
        // With fits deferred, those needed now leave their standard errors to the thread of the deferred ones.
        let measuring = deferred.isEmpty
        let spenders = summaries.filter { $0.frequency > 0 && $0.monetaryValue > 0 }
        // Gamma-Gamma needs nothing of the purchase models: its fit, whose own compression is a sort of the repeat
        // buyers, starts beside theirs (a sort of every customer's history) rather than after it.
        let spend = Ahead { fitSpend(spenders, previous: previous, measuring: measuring) }
        let started = ContinuousClock.now
        // One compression for the three purchase models; when it fails (no repeat purchase at all), every
        // purchase model fails alike.
        let sample = Result { () throws(ModelFitError) in try BGNBDSample(summaries) }
        model.statistics["seconds.fit.sample"] = (ContinuousClock.now - started).seconds
        let later =
            deferred.isEmpty ? nil : DeferredFits(sample, spenders: spenders, previous: previous, kinds: deferred)
        var fits = fitSideBySide(sample, spenders: nil, previous: previous, kinds: now, measuring: measuring)
        // Ahead's work does not throw: its value is always there.
        fits.gammaGamma = try? spend.value()
        adopt(fits, into: &model, previous: previous)
        later?.measure(model, kinds: now)
        return later
    }

    /// The fits of one run that were started beside the caller's next steps, for
    /// ``fit(_:summaries:previous:kinds:deferring:)``: the models the scores do not carry, then the standard errors
    /// and Hessians of those fitted without them.
    final class DeferredFits: @unchecked Sendable {
        private let previous: ScoringModel?
        // Written once by the thread before it signals `finished`, read only after the wait.
        private var fits: Fits?
        private var measured: Fits?
        /// The model with the fits made without their standard errors, and their kinds; set once by
        /// ``measure(_:kinds:)``.
        private let unmeasured = Mutex<(model: ScoringModel, kinds: [PurchaseModelKind])?>(nil)
        private let measurable = DispatchSemaphore(value: 0)
        private let finished = DispatchSemaphore(value: 0)

        /// Starts the fits of `kinds` on `sample` on a thread of its own, not one of the shared pool's: the caller's
        /// next steps run their parallel parts there, and a pool thread busy for seconds would leave them fewer.
        /// The thread then waits for ``measure(_:kinds:)``.
        init(
            _ sample: Result<BGNBDSample, ModelFitError>,
            spenders: [TransactionSummary],
            previous: ScoringModel?,
            kinds: [PurchaseModelKind]
        ) {
            self.previous = previous
            let thread = Thread { [self] in
                fits = fitSideBySide(sample, spenders: nil, previous: previous, kinds: kinds, measuring: true)
                measurable.wait()
                if let (model, kinds) = unmeasured.withLock({ $0 }) {
                    // Searched from their own optimum, with the previous fits' curvature, they end where they start
                    // and take their Hessian there.
                    var start = model
                    start.bgnbd?.logHessian = previous?.bgnbd?.logHessian
                    start.mbgnbd?.logHessian = previous?.mbgnbd?.logHessian
                    start.paretoNBD?.logHessian = previous?.paretoNBD?.logHessian
                    start.gammaGamma?.logHessian = previous?.gammaGamma?.logHessian
                    measured = fitSideBySide(sample, spenders: spenders, previous: start, kinds: kinds, measuring: true)
                }
                finished.signal()
            }
            thread.name = "deferred fits"
            thread.start()
        }

        /// Hands over `model`, whose fits of `kinds` and of Gamma-Gamma were made without their standard errors,
        /// for the thread to take them. Call it once, after the fits.
        func measure(_ model: ScoringModel, kinds: [PurchaseModelKind]) {
            unmeasured.withLock { $0 = (model, kinds) }
            measurable.signal()
        }

        /// Waits for the fits and puts them into `model` as ``fit(_:summaries:previous:kinds:deferring:)`` would
        /// have, with the standard errors and Hessians of the fits made without them.
        func finish(into model: inout ScoringModel) {
            wait()
            if let fits { adopt(fits, into: &model, previous: previous) }
            if let measured { PurchaseModels.measured(measured, into: &model) }
        }

        /// Waits for the fits to end; a second call returns at once.
        func wait() {
            finished.wait()
            finished.signal()  // for the next call, which would otherwise wait for ever
        }
    }

    /// Puts the standard errors and Hessians of `fits` (searched from the optimum of this run's fits in `model`)
    /// into those fits, their seconds into `seconds.measure.<model>`; a fit carried over keeps its own.
    private static func measured(_ fits: Fits, into model: inout ScoringModel) {
        func measured<P>(_ name: String, _ timed: TimedFit<P>?, _ fitted: inout ScoringModel.Fitted<P>?) {
            guard let timed, fitted != nil, fitted?.carriedOverFrom == nil, case .success(let fit) = timed.outcome
            else { return }
            model.statistics["seconds.measure.\(name)"] = timed.seconds
            fitted?.standardErrors = fit.standardErrors
            fitted?.logHessian = fit.logHessian
        }
        measured(PurchaseModelKind.bgnbd.rawValue, fits.bgnbd, &model.bgnbd)
        measured(PurchaseModelKind.mbgnbd.rawValue, fits.mbgnbd, &model.mbgnbd)
        measured(PurchaseModelKind.paretoNBD.rawValue, fits.paretoNBD, &model.paretoNBD)
        measured("gamma_gamma", fits.gammaGamma, &model.gammaGamma)
    }

    /// One run's fits: nil for a model that was not fitted (left out, or deferred).
    struct Fits: Sendable {
        var bgnbd: TimedFit<BGNBD>?
        var mbgnbd: TimedFit<MBGNBD>?
        var paretoNBD: TimedFit<ParetoNBD>?
        var gammaGamma: TimedFit<GammaGamma>?
    }

    /// Puts each fit of `fits` into `model` with its seconds (`seconds.fit.<model>`); a failed one keeps `previous`'s
    /// fit, marked as carried over, and is noted in ``ScoringModel/fitFailures``. A model without a fit in `fits`
    /// keeps `previous`'s as it is, and that is no failure.
    private static func adopt(_ fits: Fits, into model: inout ScoringModel, previous: ScoringModel?) {
        func adopted<P>(
            _ name: String,
            _ timed: TimedFit<P>?,
            previous earlier: ScoringModel.Fitted<P>?
        ) -> ScoringModel.Fitted<P>? {
            guard let timed else { return earlier }
            model.statistics["seconds.fit.\(name)"] = timed.seconds
            switch timed.outcome {
            case .success(let fit):
                return ScoringModel.Fitted(fit)
            case .failure(let error):
                model.fitFailures[name] = error.code.rawValue
                return earlier?.carriedOver(from: previous?.modelID, failure: error.code.rawValue)
            }
        }
        if fits.bgnbd != nil || model.bgnbd == nil {
            model.bgnbd = adopted(PurchaseModelKind.bgnbd.rawValue, fits.bgnbd, previous: previous?.bgnbd)
        }
        if fits.mbgnbd != nil || model.mbgnbd == nil {
            model.mbgnbd = adopted(PurchaseModelKind.mbgnbd.rawValue, fits.mbgnbd, previous: previous?.mbgnbd)
        }
        if fits.paretoNBD != nil || model.paretoNBD == nil {
            model.paretoNBD = adopted(
                PurchaseModelKind.paretoNBD.rawValue,
                fits.paretoNBD,
                previous: previous?.paretoNBD
            )
        }
        if fits.gammaGamma != nil || model.gammaGamma == nil {
            model.gammaGamma = adopted("gamma_gamma", fits.gammaGamma, previous: previous?.gammaGamma)
        }
    }

    /// A fit's outcome and the seconds it took.
    struct TimedFit<P: Sendable>: Sendable {
        var outcome: Result<ModelFit<P>, ModelFitError>
        var seconds: Double

        init(_ fit: () throws(ModelFitError) -> ModelFit<P>) {
            let started = ContinuousClock.now
            outcome = Result(catching: fit)
            seconds = (ContinuousClock.now - started).seconds
        }
    }

    /// Fits the purchase models of `kinds` on `sample` and Gamma-Gamma on `spenders` (unless nil), each searched
    /// from its previous fit's parameters first, on as many threads as the machine has cores: Pareto/NBD, about half
    /// of the fits' time, first, so that on two cores the others run beside it and the fits take about as long as it
    /// alone. (On the two virtual cores of BENCHMARKS.md a fit slows by half beside another: a million customers 2.3 s
    /// against 2.7 s one after another, ten million 12.6 against 14.6 s.) A model not fitted is nil; without
    /// `measuring`, the fits have no standard errors.
    static func fitSideBySide(
        _ sample: Result<BGNBDSample, ModelFitError>,
        spenders: [TransactionSummary]?,
        previous: ScoringModel?,
        kinds: [PurchaseModelKind],
        measuring: Bool
    ) -> Fits {
        let paretoNBD = Mutex<TimedFit<ParetoNBD>?>(nil)
        let gammaGamma = Mutex<TimedFit<GammaGamma>?>(nil)
        let bgnbd = Mutex<TimedFit<BGNBD>?>(nil)
        let mbgnbd = Mutex<TimedFit<MBGNBD>?>(nil)
        // Each slot is written by one job; concurrentPerform returns after every job ended.
        DispatchQueue.concurrentPerform(iterations: 4) { job in
            switch job {
            case 0 where kinds.contains(.paretoNBD):
                let fit = TimedFit { () throws(ModelFitError) in
                    try ParetoNBD.fit(
                        sample.get(),
                        from: previous?.paretoNBD?.parameters,
                        curvature: previous?.paretoNBD?.logHessian,
                        measuring: measuring
                    )
                }
                paretoNBD.withLock { $0 = fit }
            case 1:
                guard let spenders else { return }
                let fit = fitSpend(spenders, previous: previous, measuring: measuring)
                gammaGamma.withLock { $0 = fit }
            case 2 where kinds.contains(.bgnbd):
                let fit = TimedFit { () throws(ModelFitError) in
                    try BGNBD.fit(
                        sample.get(),
                        from: previous?.bgnbd?.parameters,
                        curvature: previous?.bgnbd?.logHessian,
                        measuring: measuring
                    )
                }
                bgnbd.withLock { $0 = fit }
            case 3 where kinds.contains(.mbgnbd):
                let fit = TimedFit { () throws(ModelFitError) in
                    try MBGNBD.fit(
                        sample.get(),
                        from: previous?.mbgnbd?.parameters,
                        curvature: previous?.mbgnbd?.logHessian,
                        measuring: measuring
                    )
                }
                mbgnbd.withLock { $0 = fit }
            default:
                break
            }
        }
        return Fits(
            bgnbd: bgnbd.withLock { $0 },
            mbgnbd: mbgnbd.withLock { $0 },
            paretoNBD: paretoNBD.withLock { $0 },
            gammaGamma: gammaGamma.withLock { $0 }
        )
    }

    /// Gamma-Gamma fitted on `spenders` (the customers with repeat purchases of value), searched from `previous`'s
    /// fit first.
    static func fitSpend(
        _ spenders: [TransactionSummary],
        previous: ScoringModel?,
        measuring: Bool
    ) -> TimedFit<GammaGamma> {
        TimedFit { () throws(ModelFitError) in
            // One repeat buyer identifies no spread of spend across customers.
            guard spenders.count >= 2 else { throw ModelFitError(.noCustomers) }
            return try GammaGamma.fit(
                spenders,
                from: previous?.gammaGamma?.parameters,
                curvature: previous?.gammaGamma?.logHessian,
                measuring: measuring
            )
        }
    }

    /// The newest stored model, whose fits stay in use where this run's fail, and the newest validation. A stored
    /// model or validation that cannot be read is logged and passed over: it must not stop the rescoring.
    static func previous(
        on connection: isolated PostgresConnection,
        logger: Logger
    ) throws -> (model: ScoringModel?, validation: StoredValidation?) {
        var found: (model: ScoringModel?, validation: StoredValidation?) = (nil, nil)
        do {
            found.model = try ModelStore.latest(on: connection)
        } catch let error as ScoringError {
            logger.warning(
                "the previous model is unreadable: no fit of it can be kept",
                metadata: ["error": "\(error)"]
            )
        }
        do {
            found.validation = try ValidationStore.newest(on: connection)
        } catch let error as ScoringError {
            logger.warning("the newest validation is unreadable: passed over", metadata: ["error": "\(error)"])
        }
        return found
    }

    /// Logs and counts the fits of `model` that failed (`crm_scoring_model_fit_failures_total{model}`), warns of
    /// those that did not converge, and logs the selection.
    static func report(_ model: ScoringModel, logger: Logger) {
        for (name, code) in model.fitFailures.sorted(by: { $0.key < $1.key }) {
            let kept: Int64? =
                switch name {
                case PurchaseModelKind.bgnbd.rawValue: model.bgnbd?.carriedOverFrom
                case PurchaseModelKind.mbgnbd.rawValue: model.mbgnbd?.carriedOverFrom
                case PurchaseModelKind.paretoNBD.rawValue: model.paretoNBD?.carriedOverFrom
                default: model.gammaGamma?.carriedOverFrom
                }
            logger.warning(
                "model fit failed: the previous fit stays in use where there is one",
                metadata: [
                    "model": "\(name)", "reason": "\(code)", "kept_from_model": "\(kept.map(String.init) ?? "none")",
                ]
            )
            Counter(label: "crm_scoring_model_fit_failures_total", dimensions: [("model", name)]).increment()
        }
        let converged: [(String, Bool?)] = [
            (PurchaseModelKind.bgnbd.rawValue, model.bgnbd.map { $0.converged || $0.carriedOverFrom != nil }),
            (PurchaseModelKind.mbgnbd.rawValue, model.mbgnbd.map { $0.converged || $0.carriedOverFrom != nil }),
            (PurchaseModelKind.paretoNBD.rawValue, model.paretoNBD.map { $0.converged || $0.carriedOverFrom != nil }),
            ("gamma_gamma", model.gammaGamma.map { $0.converged || $0.carriedOverFrom != nil }),
        ]
        for (name, flag) in converged where flag == false {
            logger.warning(
                "model fit stopped before its gradient vanished: the best point found is in use",
                metadata: ["model": "\(name)"]
            )
        }
        if let selection = model.selection {
            logger.info(
                "purchase model selected",
                metadata: ["model": "\(selection.selected.rawValue)", "basis": "\(selection.basis.rawValue)"]
            )
        }
    }

    /// The scheduled holdout validation of a full rescoring on `holdout` (the calibration customers' split
    /// histories), its holdout errors logged and published (`crm_scoring_model_holdout_mae{model}`); nil, and
    /// logged, when too few customers bought by the calibration end.
    static func validate(
        _ holdout: [HoldoutHistory],
        calibrationEnd: Date,
        holdoutEnd: Date,
        settings: ScoringConfiguration,
        startingFrom model: ScoringModel?,
        logger: Logger
    ) -> HoldoutValidation? {
        guard holdout.count >= settings.minimumFitCustomers else {
            logger.notice(
                "scheduled validation skipped: too few customers bought before the calibration end",
                metadata: [
                    "customers": "\(holdout.count)", "minimum": "\(settings.minimumFitCustomers)",
                    "calibration_end": "\(UTCDateTime.format(calibrationEnd))",
                ]
            )
            return nil
        }
        let validation = HoldoutValidation.run(
            holdout,
            calibrationEnd: calibrationEnd,
            holdoutEnd: holdoutEnd,
            holdoutDays: HoldoutHistory.day(holdoutEnd.timeIntervalSince1970)
                - HoldoutHistory.day(calibrationEnd.timeIntervalSince1970),
            unit: settings.timeUnit,
            startingFrom: model.map { model in PurchaseModelKind.allCases.compactMap { model.purchaseModel($0) } } ?? []
        )
        var metadata: Logger.Metadata = ["customers": "\(validation.customers)"]
        for kind in PurchaseModelKind.allCases {
            guard let result = validation[kind] else { continue }
            metadata["mae.\(kind.rawValue)"] = "\(String(format: "%.4f", result.mae))"
            Gauge(label: "crm_scoring_model_holdout_mae", dimensions: [("model", kind.rawValue)]).record(result.mae)
        }
        for (name, code) in validation.failures { metadata["failed.\(name)"] = "\(code)" }
        logger.info("purchase models validated on the holdout", metadata: metadata)
        return validation
    }

    // MARK: - Selection

    /// Which purchase model the scores carry: the one `setting` names, or under `auto` the lowest holdout error of
    /// `validation` (the newest) among the fitted ones, else BG/NBD. Nil when no purchase model is fitted.
    static func select(
        setting: PurchaseModelChoice,
        fitted: [PurchaseModelKind],
        validation: StoredValidation?
    ) -> PurchaseModelSelection? {
        guard let first = fitted.first else { return nil }
        let fallback = fitted.contains(.bgnbd) ? PurchaseModelKind.bgnbd : first
        if let asked = setting.kind {
            guard fitted.contains(asked) else {
                return PurchaseModelSelection(
                    setting: setting,
                    selected: fallback,
                    basis: .fallback,
                    reason: "CRM_SCORING_MODEL names \(asked.displayName), which could not be fitted and was not "
                        + "fitted before: \(fallback.displayName) instead"
                )
            }
            return PurchaseModelSelection(
                setting: setting,
                selected: asked,
                basis: .configured,
                reason: "CRM_SCORING_MODEL=\(setting.rawValue)"
            )
        }
        guard let validation, let best = validation.result.lowestError(among: fitted) else {
            let reason =
                validation == nil
                ? "no validation yet, so \(fallback.displayName), the default (CRM_SCORING_VALIDATE_HOLDOUT or "
                    + "crm model validate measures the models)"
                : "no model of the newest validation is fitted: \(fallback.displayName), the default"
            return PurchaseModelSelection(setting: setting, selected: fallback, basis: .noValidation, reason: reason)
        }
        let errors = validation.result.models.mapValues(\.mae)
        let others = PurchaseModelKind.allCases.filter { $0 != best }.compactMap { kind in
            errors[kind.rawValue].map { String(format: "%@ %.4f", kind.displayName, $0) }
        }
        let result = validation.result
        let reason =
            String(format: "lowest holdout error: %.4f transactions per customer", errors[best.rawValue] ?? .nan)
            + (others.isEmpty ? "" : " against \(others.joined(separator: ", "))")
            + " in the newest validation (calibration to \(Timestamp(result.calibrationEnd).rfc3339), "
            + String(format: "%.1f weeks of holdout, %d customers)", result.holdoutWeeks, result.customers)
        return PurchaseModelSelection(
            setting: setting,
            selected: best,
            basis: .holdoutError,
            validationID: validation.validationID,
            holdoutErrors: errors,
            reason: reason
        )
    }

    // MARK: - Predictions

    /// Every customer's figures by `transactions` and `spend`: p_alive, expected purchases in 90 days, predicted
    /// value (nil without a summary). P(alive) is computed once per customer (Pareto/NBD's once per distinct
    /// history), the expectations once per distinct (x, T). `values`, when given, are the predicted values already
    /// computed (by ``values(_:spend:summaries:settings:)``, in the same order; any for a customer without a
    /// summary): the valuation, a sum over every period of the horizon, is most of the work.
    static func predictions<Transactions: PurchaseModel>(
        _ transactions: Transactions,
        spend: GammaGamma?,
        summaries: [TransactionSummary?],
        settings: ScoringConfiguration,
        values known: [Double]? = nil
    ) -> [CustomerPredictions] {
        let present = summaries.map { $0 ?? TransactionSummary(frequency: 0, recency: 0, age: 0) }
        let histories = DistinctHistories(present)
        let alive = transactions.probabilitiesAlive(for: present)
        let expected = transactions.conditionalExpectedPurchases(
            t: 90 / settings.timeUnitDays,
            histories: histories,
            alive: alive
        )
        let values = spend.map { spend in
            known
                ?? LifetimeValue(valuing: transactions, spend: spend, settings: settings)
                .values(for: present, histories: histories, alive: alive)
        }
        return ParallelChunks.array(count: summaries.count) { index in
            guard summaries[index] != nil else { return .none }
            return CustomerPredictions(pAlive: alive[index], expected90d: expected[index], predicted: values?[index])
        }
    }

    /// The predicted values alone of customers with these `summaries` (what the base-wide calibration ranks), as
    /// ``predictions(_:spend:summaries:settings:values:)`` computes them.
    static func values<Transactions: PurchaseModel>(
        _ transactions: Transactions,
        spend: GammaGamma,
        summaries: [TransactionSummary],
        settings: ScoringConfiguration
    ) -> [Double] {
        LifetimeValue(valuing: transactions, spend: spend, settings: settings)
            .values(for: summaries, histories: DistinctHistories(summaries))
    }

    /// One customer's figures by `transactions` and `spend`.
    static func predictions<Transactions: PurchaseModel>(
        _ transactions: Transactions,
        spend: GammaGamma?,
        summary: TransactionSummary,
        settings: ScoringConfiguration
    ) -> CustomerPredictions {
        let valuation = spend.map { LifetimeValue(valuing: transactions, spend: $0, settings: settings) }
        return CustomerPredictions(
            pAlive: transactions.probabilityAlive(x: summary.frequency, tx: summary.recency, T: summary.age),
            expected90d: transactions.conditionalExpectedPurchases(t: 90 / settings.timeUnitDays, for: summary),
            predicted: valuation?.value(for: summary)
        )
    }
}

extension LifetimeValue {
    /// The valuation the settings describe: `CRM_SCORING_HORIZON_MONTHS` months discounted at the monthly rate of
    /// `CRM_SCORING_DISCOUNT_RATE`, in the model's time unit.
    init(valuing transactions: Transactions, spend: GammaGamma, settings: ScoringConfiguration) {
        self.init(
            transactions: transactions,
            spend: spend,
            modelUnit: settings.timeUnit,
            periods: settings.horizonMonths,
            period: .month,
            discountRate: settings.monthlyDiscountRate
        )
    }
}
