import CRMContract
import CRMSupport
import Foundation
import Testing

@testable import Scoring

/// The three purchase models in a full rescoring's fit: which one the scores carry, a failed fit keeping the
/// previous model's, and scores without NaN; on the CDNOW sample in memory, without a database.
@Suite("Purchase models in the rescoring")
struct EnginePurchaseModelsTests {
    static let settings = ScoringConfiguration()

    /// The model of the CDNOW sample as of 1997-09-30, as a full rescoring fits it, stored as model 7.
    static let sampleModel = Result {
        var model = try FullRescoring.fit(
            EngineBaseModelTests.sampleActivities(),
            settings: settings,
            asOf: EngineBaseModelTests.calibrationEnd
        )
        model.modelID = 7
        return model
    }

    /// `count` customers who each bought once, all on day `day`, as of the end of that day: a base without a single
    /// repeat purchase, on which no purchase model can be fitted.
    static func degenerateBase(count: Int, day: Int) -> (activities: [CustomerActivity], asOf: Date) {
        let asOf = Date(timeIntervalSince1970: Double(day + 1) * 86_400 - 0.001)
        var builder = ActivityBuilder(asOf: asOf, settings: settings)
        let activities = (0..<count).map { customer in
            builder.add(time: Double(day) * 86_400 + Double(customer), isPurchase: true, amount: 20, cost: nil)
            return builder.finish()
        }
        return (activities, asOf)
    }

    @Test("all three purchase models and Gamma-Gamma are fitted, with standard errors; BG/NBD selected by default")
    func allFitted() throws {
        let model = try Self.sampleModel.get()
        let bgnbd = try #require(model.bgnbd)
        let mbgnbd = try #require(model.mbgnbd)
        let pareto = try #require(model.paretoNBD)
        #expect(abs(mbgnbd.parameters.r / 0.525 - 1) < 0.02)
        #expect(abs(mbgnbd.parameters.alpha / 6.183 - 1) < 0.02)
        #expect(abs(pareto.parameters.r / 0.553 - 1) < 0.02)
        #expect(abs(pareto.parameters.beta / 11.667 - 1) < 0.02)
        #expect(Set(bgnbd.standardErrors?.keys ?? [:].keys) == ["r", "alpha", "a", "b"])
        #expect(Set(pareto.standardErrors?.keys ?? [:].keys) == ["r", "alpha", "s", "beta"])
        #expect(model.gammaGamma?.standardErrors?.count == 3)
        #expect(bgnbd.logLikelihood < 0 && mbgnbd.logLikelihood < 0 && pareto.logLikelihood < 0)
        #expect(model.fitFailures.isEmpty)
        #expect(model.selected == .bgnbd)
        #expect(model.selection?.basis == .noValidation)
        #expect(model.fittedKinds == PurchaseModelKind.allCases)
    }

    @Test(
        "the models the scores do not carry, fitted beside the scoring, end as the fits made all at once",
        arguments: [PurchaseModelChoice.auto, .paretoNBD]
    )
    func deferredFits(choice: PurchaseModelChoice) throws {
        var settings = Self.settings
        settings.purchaseModel = choice
        let previous = try Self.sampleModel.get()
        // A week later than the previous model, no one having bought since: each fit starts from its parameters
        // and moves from them.
        let summaries = try EngineBaseModelTests.sampleActivities().compactMap(\.summary).map { summary in
            var later = summary
            later.age += 1
            return later
        }
        let asOf = EngineBaseModelTests.calibrationEnd.addingTimeInterval(7 * 86_400)
        func fit(deferring: Bool) throws -> (model: ScoringModel, deferred: PurchaseModels.DeferredFits?) {
            try FullRescoring.fit(
                summaries: summaries,
                customers: summaries.count,
                settings: settings,
                asOf: asOf,
                requested: true,
                previous: previous,
                validation: nil,
                kinds: PurchaseModelKind.allCases,
                deferring: deferring
            )
        }
        let whole = try fit(deferring: false)
        #expect(whole.deferred == nil)
        let (fitted, deferred) = try fit(deferring: true)
        var model = fitted
        let later = try #require(deferred)
        let carried = choice.kind ?? .bgnbd
        #expect(model.selected == carried && model.selection == whole.model.selection)
        #expect(model.purchaseModel(carried) != nil)
        #expect(model.gammaGamma?.parameters == whole.model.gammaGamma?.parameters)
        // The carried model's fit is this run's now, still without its standard errors; the others hold the
        // previous model's until they end.
        #expect(model.gammaGamma?.standardErrors == nil && model.purchaseModel(carried) != nil)
        switch carried {
        case .paretoNBD:
            #expect(model.paretoNBD?.parameters == whole.model.paretoNBD?.parameters)
            #expect(model.paretoNBD?.parameters != previous.paretoNBD?.parameters)
        default:
            #expect(model.bgnbd?.parameters == whole.model.bgnbd?.parameters)
            #expect(model.bgnbd?.parameters != previous.bgnbd?.parameters)
            #expect(model.paretoNBD?.parameters == previous.paretoNBD?.parameters)
        }
        #expect(model.mbgnbd?.parameters == previous.mbgnbd?.parameters)
        later.finish(into: &model)
        later.finish(into: &model)  // a second call changes nothing and does not wait
        #expect(model.bgnbd?.parameters == whole.model.bgnbd?.parameters)
        #expect(model.mbgnbd?.parameters == whole.model.mbgnbd?.parameters)
        #expect(model.paretoNBD?.parameters == whole.model.paretoNBD?.parameters)
        #expect(model.mbgnbd?.parameters != previous.mbgnbd?.parameters)
        #expect(model.fitFailures.isEmpty && model.fittedKinds == PurchaseModelKind.allCases)
        // Every fit has its standard errors and Hessian, as those made all at once (taken at the same optimum, up to
        // the rounding of its logarithms).
        let errors: [([String: Double]?, [String: Double]?)] = [
            (model.bgnbd?.standardErrors, whole.model.bgnbd?.standardErrors),
            (model.mbgnbd?.standardErrors, whole.model.mbgnbd?.standardErrors),
            (model.paretoNBD?.standardErrors, whole.model.paretoNBD?.standardErrors),
            (model.gammaGamma?.standardErrors, whole.model.gammaGamma?.standardErrors),
        ]
        for (ours, all) in errors {
            let (ours, all) = (try #require(ours), try #require(all))
            #expect(Set(ours.keys) == Set(all.keys))
            for (name, error) in all { #expect(abs((ours[name] ?? 0) / error - 1) < 1e-6, "\(name)") }
        }
        #expect(model.bgnbd?.logHessian?.count == 16 && model.gammaGamma?.logHessian?.count == 9)
        let measuredNames = [carried.rawValue, "gamma_gamma"].map { "seconds.measure.\($0)" }
        #expect(Set(model.statistics.keys) == Set(whole.model.statistics.keys).union(measuredNames))
    }

    @Test(
        "CRM_SCORING_MODEL names the model whose p_alive and predictions the scores carry",
        arguments: ["mbgnbd", "pareto_nbd"]
    )
    func configured(name: String) throws {
        let settings = try ScoringConfiguration(Settings(["CRM_SCORING_MODEL": name.uppercased()]))
        let kind = try #require(PurchaseModelKind(rawValue: name))
        let activities = try EngineBaseModelTests.sampleActivities()
        let model = try FullRescoring.fit(activities, settings: settings, asOf: EngineBaseModelTests.calibrationEnd)
        #expect(model.selected == kind)
        #expect(model.selection?.basis == .configured)
        let transactions = try #require(model.purchaseModel(kind))
        let predictions = FullRescoring.predict(activities, model: model)
        let scorer = CustomerScorer(model: model)
        for (activity, bulk) in zip(activities, predictions).prefix(300) {
            let summary = try #require(activity.summary)
            let pAlive = transactions.probabilityAlive(x: summary.frequency, tx: summary.recency, T: summary.age)
            #expect(abs((bulk.pAlive ?? .nan) - pAlive) < 1e-12)
            let expected = transactions.conditionalExpectedPurchases(t: 90.0 / 7, for: summary)
            #expect(abs((bulk.expected90d ?? .nan) - expected) < 1e-12 * max(expected, 1))
            // One customer at a time (incremental scoring) gives what the bulk pass gave.
            let single = scorer.predictions(activity)
            #expect(abs((single.pAlive ?? .nan) - (bulk.pAlive ?? .nan)) < 1e-12)
            #expect(abs((single.predicted ?? .nan) - (bulk.predicted ?? .nan)) < 1e-9 * max(bulk.predicted ?? 1, 1))
        }
        // One-time buyers are no longer alive for sure: the models with a dropout before any repeat say so.
        let oneTime = zip(activities, predictions).filter { $0.0.summary?.frequency == 0 }.compactMap(\.1.pAlive)
        #expect(!oneTime.isEmpty && oneTime.allSatisfy { $0 < 1 })
    }

    @Test("CRM_SCORING_MODEL and CRM_SCORING_VALIDATE_HOLDOUT: defaults, values and refusals")
    func settings() throws {
        let defaults = try ScoringConfiguration(Settings([:]))
        #expect(defaults.purchaseModel == .auto)
        #expect(defaults.validationHoldoutDays == nil)
        let weeks = try ScoringConfiguration(Settings(["CRM_SCORING_VALIDATE_HOLDOUT": "26w"]))
        #expect(weeks.validationHoldoutDays == 182)
        #expect(try ScoringConfiguration(Settings(["CRM_SCORING_VALIDATE_HOLDOUT": "90d"])).validationHoldoutDays == 90)
        for (variable, value) in [
            ("CRM_SCORING_MODEL", "nbd"), ("CRM_SCORING_VALIDATE_HOLDOUT", "12h"),
            ("CRM_SCORING_VALIDATE_HOLDOUT", "soon"),
        ] {
            #expect {
                try ScoringConfiguration(Settings([variable: value]))
            } throws: { error in
                (error as? SettingsError)?.variable == variable
            }
        }
        // A model stored before these settings existed reads back with their defaults.
        var stored = try JSONSerialization.jsonObject(with: JSONEncoder().encode(weeks)) as! [String: Any]
        stored["purchaseModel"] = nil
        stored["validationHoldoutDays"] = nil
        let decoded = try JSONDecoder().decode(
            ScoringConfiguration.self,
            from: JSONSerialization.data(withJSONObject: stored)
        )
        #expect(decoded.purchaseModel == .auto && decoded.validationHoldoutDays == nil)
        #expect(decoded.lifecycle == weeks.lifecycle)
    }

    @Test(
        "auto selects the lowest holdout error among the fitted models, else BG/NBD; a named model that is not fitted falls back"
    )
    func selection() throws {
        var result = try ModelHoldoutValidationTests.validation.get()
        result.models["bgnbd"]?.mae = 0.9
        result.models["mbgnbd"]?.mae = 0.7
        result.models["pareto_nbd"]?.mae = 0.8
        let validation = StoredValidation(
            validationID: 4,
            modelID: 7,
            validatedAt: Date(),
            scheduled: false,
            result: result
        )
        let all = PurchaseModelKind.allCases
        let auto = try #require(PurchaseModels.select(setting: .auto, fitted: all, validation: validation))
        #expect(auto.selected == .mbgnbd && auto.basis == .holdoutError && auto.validationID == 4)
        #expect(auto.holdoutErrors == ["bgnbd": 0.9, "mbgnbd": 0.7, "pareto_nbd": 0.8])
        #expect(auto.reason.contains("0.7000") && auto.reason.contains("BG/NBD 0.9000"))
        // The best of the validation is not fitted in this run: the best of those that are.
        let without = PurchaseModels.select(setting: .auto, fitted: [.bgnbd, .paretoNBD], validation: validation)
        #expect(without?.selected == .paretoNBD)
        // No validation: BG/NBD.
        let none = PurchaseModels.select(setting: .auto, fitted: all, validation: nil)
        #expect(none?.selected == .bgnbd && none?.basis == .noValidation)
        // A named model wins over the validation; one that is not fitted falls back to BG/NBD.
        #expect(PurchaseModels.select(setting: .paretoNBD, fitted: all, validation: validation)?.selected == .paretoNBD)
        let missing = PurchaseModels.select(setting: .mbgnbd, fitted: [.bgnbd, .paretoNBD], validation: validation)
        #expect(missing?.selected == .bgnbd && missing?.basis == .fallback)
        #expect(PurchaseModels.select(setting: .auto, fitted: [], validation: validation) == nil)
    }

    @Test("a degenerate base (everyone bought once, the same day) is reported and the previous model stays in use")
    func degenerateBaseKeepsThePreviousModel() throws {
        let previous = try Self.sampleModel.get()
        let (activities, asOf) = Self.degenerateBase(count: 200, day: CDNOW.calibrationEnd + 30)
        var chosen = Self.settings
        chosen.purchaseModel = .mbgnbd
        let model = try FullRescoring.fit(activities, settings: chosen, asOf: asOf, previous: previous)
        #expect(
            model.fitFailures
                == [
                    "bgnbd": "degenerate", "mbgnbd": "degenerate", "pareto_nbd": "degenerate",
                    "gamma_gamma": "noCustomers",
                ]
        )
        #expect(model.bgnbd?.parameters == previous.bgnbd?.parameters)
        #expect(model.mbgnbd?.parameters == previous.mbgnbd?.parameters)
        #expect(model.paretoNBD?.parameters == previous.paretoNBD?.parameters)
        #expect(model.gammaGamma?.parameters == previous.gammaGamma?.parameters)
        for fitted in [model.bgnbd?.carriedOverFrom, model.mbgnbd?.carriedOverFrom, model.paretoNBD?.carriedOverFrom] {
            #expect(fitted == 7)
        }
        #expect(model.mbgnbd?.fitFailure == "degenerate")
        #expect(model.selected == .mbgnbd)
        // Every customer scored with the kept model: finite figures, never NaN.
        let predictions = FullRescoring.predict(activities, model: model)
        let kept = try #require(previous.mbgnbd?.parameters)
        for prediction in predictions {
            let pAlive = try #require(prediction.pAlive)
            #expect(abs(pAlive - kept.probabilityAlive(x: 0, tx: 0, T: 0)) < 1e-12)
            #expect(prediction.expected90d?.isFinite == true && prediction.predicted?.isFinite == true)
        }
        // A run after that keeps naming the model whose fit it is, not the one that kept it.
        var carried = model
        carried.modelID = 8
        let again = try FullRescoring.fit(activities, settings: chosen, asOf: asOf, previous: carried)
        #expect(again.bgnbd?.carriedOverFrom == 7)
    }

    @Test("a degenerate first base has no model to keep: no purchase model, no p_alive, no NaN")
    func degenerateFirstBase() throws {
        let (activities, asOf) = Self.degenerateBase(count: 200, day: 10_000)
        let model = try FullRescoring.fit(activities, settings: Self.settings, asOf: asOf)
        #expect(model.fittedKinds.isEmpty && model.gammaGamma == nil && model.selection == nil)
        #expect(model.fitFailures["bgnbd"] == "degenerate")
        #expect(FullRescoring.predict(activities, model: model).allSatisfy { $0 == .none })
    }

    @Test("a figure that is not finite is never a prediction, and p_alive stays within [0, 1]")
    func noNaN() {
        let odd = CustomerPredictions(pAlive: .nan, expected90d: .infinity, predicted: -.infinity)
        #expect(odd == .none)
        #expect(CustomerPredictions(pAlive: 1 + 1e-15).pAlive == 1)
        #expect(CustomerPredictions(pAlive: -1e-300).pAlive == 0)
    }
}
