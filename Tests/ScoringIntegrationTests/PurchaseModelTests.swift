import CRMContract
import CRMOutbox
import CRMPostgres
import CRMRuntime
import CRMSupport
import Foundation
import Scoring
import TestSupport
import Testing

/// The three purchase models against the real database: `crm model validate`'s validator, the scheduled validation,
/// the selection the scores follow, the model object `crm model --json` prints, and a degenerate base.
@Suite struct PurchaseModelTests {
    /// Each sample customer's purchase days after 1997-09-30, counted from the file's own lines (customer id in
    /// the first column, YYYYMMDD in the third).
    static func holdoutTransactionsFromTheFile() throws -> [String: Int] {
        let text = try String(
            contentsOf: ScoringHarness.fixtures.appendingPathComponent("CDNOW_sample.txt"),
            encoding: .utf8
        )
        var days: [String: Set<Substring>] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count == 5 else { continue }
            days[String(fields[0]), default: []].formUnion(fields[2] > "19970930" ? [fields[2]] : [])
        }
        return days.mapValues(\.count)
    }

    static func rescoring(
        _ pool: PostgresPool,
        _ settings: ScoringConfiguration = ScoringConfiguration()
    ) -> FullRescoring {
        FullRescoring(pool: pool, outbox: Outbox(of: .scoring), settings: settings, logger: TestServers.logger)
    }

    static func modelObject(_ pool: PostgresPool) async throws -> [String: Any] {
        let json = try await ModelView.json(pool: pool) ?? "null"
        return try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
    }

    /// `crm model validate --calibration-end 1997-09-30` on the stored sample: the holdout ends at the newest order,
    /// the totals are the file's, the result is stored with the newest model, and under `auto` the next full
    /// rescoring selects its lowest error, which the scores then carry, incremental scoring too.
    @Test func validationOnTheStoredOrdersDecidesTheSelection() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            _ = try await ScoringHarness.storeCDNOW("CDNOW_sample.txt", pool: environment.pool)
            let first = try await Self.rescoring(environment.pool).run(asOf: try ScoringHarness.endOfDay("1997-09-30"))
            #expect(first.model.selected == .bgnbd)
            #expect(first.model.selection?.basis == .noValidation)

            let stored = try await HoldoutValidator(pool: environment.pool, settings: ScoringConfiguration()).run(
                calibrationEnd: try ScoringHarness.endOfDay("1997-09-30")
            )
            let result = stored.result
            #expect(stored.modelID == first.model.modelID)
            #expect(stored.scheduled == false)
            #expect(result.customers == 2357)
            #expect(result.holdoutWeeks == 39)
            let actual = try Self.holdoutTransactionsFromTheFile()
            #expect(actual.count == 2357)
            for kind in PurchaseModelKind.allCases {
                let figures = try #require(result[kind], "\(kind)")
                #expect(figures.totalActual == actual.values.reduce(0, +))
                #expect(figures.byFrequency.map(\.customers).reduce(0, +) == 2357)
                #expect(figures.mae > 0 && figures.rmse >= figures.mae)
            }
            // The calibration fit is the full rescoring's as of the calibration end: the same data, the same fit.
            let calibrationBGNBD = try #require(result[.bgnbd]?.params)
            let rescored = try #require(first.model.bgnbd?.parameters)
            #expect(abs(calibrationBGNBD["r"]! / rescored.r - 1) < 1e-9)
            #expect(abs(calibrationBGNBD["b"]! / rescored.b - 1) < 1e-9)
            // Stored, and shown by crm model as the newest validation.
            let object = try await Self.modelObject(environment.pool)
            let shown = try #require(object["validation"] as? [String: Any])
            #expect(shown["validation_id"] as? Int == stored.validationID.map(Int.init))
            #expect(shown["calibration_end"] as? String == "1997-09-30T23:59:59.999Z")
            #expect(shown["holdout_weeks"] as? Double == 39)

            // The next full rescoring under auto selects the lowest error, and says so.
            let best = try #require(result.lowestError)
            let second = try await Self.rescoring(environment.pool).run(
                asOf: try ScoringHarness.endOfDay("1997-09-30")
            )
            #expect(second.model.selected == best)
            #expect(second.model.selection?.basis == .holdoutError)
            #expect(second.model.selection?.validationID == stored.validationID)
            let selected = try #require(second.model.purchaseModel)
            let summary = TransactionSummary(frequency: 2, recency: 213.0 / 7, age: 272.0 / 7)
            let pAlive = selected.probabilityAlive(x: 2, tx: summary.recency, T: summary.age)
            // The sample file's first customer, 00004: customer 1 of the published summary (x 2, t_x 213 d, T 272 d).
            let customer = try #require(try await ScoringHarness.customer("00004", pool: environment.pool))
            #expect(abs((customer["p_alive"] as? Double ?? .nan) - pAlive) < 1e-9)

            // Incremental scoring reads the stored selection: the same p_alive for the same history.
            let incremental = IncrementalScoring(
                pool: environment.pool,
                outbox: Outbox(of: .scoring),
                settings: ScoringConfiguration(),
                logger: TestServers.logger
            )
            try await incremental.rescore(customers: ["00004"], asOf: try ScoringHarness.endOfDay("1997-09-30"))
            let again = try #require(try await ScoringHarness.customer("00004", pool: environment.pool))
            #expect(abs((again["p_alive"] as? Double ?? .nan) - pAlive) < 1e-9)
        }
    }

    /// `CRM_SCORING_VALIDATE_HOLDOUT=39w` with a rescoring as of 1998-06-30 calibrates to 1997-09-30: the classic
    /// split, from the same pass over the orders, stored with the model it decided. The rescoring runs as
    /// crm-scoring's own database role, whose privileges must cover the validations.
    @Test func aScheduledValidationRunsWithTheRescoring() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            _ = try await ScoringHarness.storeCDNOW("CDNOW_sample.txt", pool: environment.pool)
            let settings = try ScoringConfiguration(Settings(["CRM_SCORING_VALIDATE_HOLDOUT": "39w"]))
            try await environment.grantServiceAccounts()
            let scoring = PostgresPool(
                url: try environment.databaseURL(as: .scoring),
                size: 1,
                applicationName: "scoring",
                logger: TestServers.logger
            )
            let report = try await Self.rescoring(scoring, settings).run(
                asOf: try ScoringHarness.endOfDay("1998-06-30")
            )
            await scoring.close()
            let validation = try #require(report.validation)
            #expect(validation.scheduled)
            #expect(validation.modelID == report.model.modelID)
            #expect(Timestamp(validation.result.calibrationEnd).rfc3339 == "1997-09-30T23:59:59.999Z")
            #expect(validation.result.customers == 2357)
            let actual = try Self.holdoutTransactionsFromTheFile().values.reduce(0, +)
            #expect(validation.result[.paretoNBD]?.totalActual == actual)
            #expect(report.phases.contains { $0.name == "validate" })
            #expect(report.model.selection?.basis == .holdoutError)
            #expect(report.model.selection?.validationID == validation.validationID)
            #expect(report.model.selected == validation.result.lowestError)

            // The stored rows: the model names its validation, the validation its model.
            let rows = try await environment.pool.query(
                """
                SELECT m.selected_model, m.selection ->> 'validation_id', v.model_id, v.scheduled
                FROM scoring_models m JOIN scoring_validations v ON v.model_id = m.model_id
                """
            )
            #expect(rows.count == 1)
            #expect(rows.first?[0] == report.model.selected.rawValue)
            #expect(rows.first?[1] == validation.validationID.map(String.init))
        }
    }

    /// `crm model --json`: the v1 keys of `bgnbd` and `gamma_gamma`, the two new models, `selected`, each model's
    /// `log_likelihood` and `standard_errors` keyed as its parameters.
    @Test func theModelObjectHasTheInterfaceKeys() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            _ = try await ScoringHarness.storeCDNOW("CDNOW_sample.txt", pool: environment.pool)
            var settings = ScoringConfiguration()
            settings.purchaseModel = .paretoNBD
            _ = try await Self.rescoring(environment.pool, settings).run(
                asOf: try ScoringHarness.endOfDay("1997-09-30")
            )
            let object = try await Self.modelObject(environment.pool)
            for key in [
                "bgnbd", "mbgnbd", "pareto_nbd", "gamma_gamma", "selected", "time_unit", "as_of", "customers",
                "fitted_at",
            ] {
                #expect(object[key] != nil && !(object[key] is NSNull), "\(key)")
            }
            #expect(object["selected"] as? String == "pareto_nbd")
            #expect(object["time_unit"] as? String == "week")
            #expect(object["customers"] as? Int == 2357)
            #expect(object["validation"] is NSNull)
            let models: [(String, [String])] = [
                ("bgnbd", ["r", "alpha", "a", "b"]), ("mbgnbd", ["r", "alpha", "a", "b"]),
                ("pareto_nbd", ["r", "alpha", "s", "beta"]), ("gamma_gamma", ["p", "q", "v"]),
            ]
            for (name, parameters) in models {
                let model = try #require(object[name] as? [String: Any], "\(name)")
                for parameter in parameters { #expect(model[parameter] is Double, "\(name).\(parameter)") }
                #expect(model["log_likelihood"] is Double, "\(name)")
                let errors = try #require(model["standard_errors"] as? [String: Double], "\(name)")
                #expect(Set(errors.keys) == Set(parameters), "\(name)")
                #expect(errors.values.allSatisfy { $0 > 0 && $0.isFinite }, "\(name)")
            }
            let pareto = try #require(object["pareto_nbd"] as? [String: Any])
            #expect(abs((pareto["r"] as? Double ?? 0) / 0.553 - 1) < 0.02)
            #expect(abs((pareto["alpha"] as? Double ?? 0) / 10.578 - 1) < 0.02)
            #expect(abs((pareto["s"] as? Double ?? 0) / 0.606 - 1) < 0.02)
            #expect(abs((pareto["beta"] as? Double ?? 0) / 11.667 - 1) < 0.02)
            let selection = try #require(object["selection"] as? [String: Any])
            #expect(selection["basis"] as? String == "configured")
            #expect(selection["setting"] as? String == "pareto_nbd")
        }
    }

    /// A base on which no model can be fitted (everyone bought once, on the same day): the failure is recorded,
    /// the previous model's fits stay in use, and every score carries finite figures, never NaN.
    @Test func aDegenerateBaseKeepsThePreviousModel() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            _ = try await ScoringHarness.storeCDNOW("CDNOW_sample.txt", pool: environment.pool)
            var settings = ScoringConfiguration()
            settings.minimumFitCustomers = 10
            let rescoring = Self.rescoring(environment.pool, settings)
            let previous = try await rescoring.run(asOf: try ScoringHarness.endOfDay("1997-09-30"))
            // As of 1997-01-01 the sample's only customers are the 18 who first bought that day, once each.
            let degenerate = try await rescoring.run(asOf: try ScoringHarness.endOfDay("1997-01-01"))
            let model = degenerate.model
            #expect(
                model.fitFailures
                    == [
                        "bgnbd": "degenerate", "mbgnbd": "degenerate", "pareto_nbd": "degenerate",
                        "gamma_gamma": "noCustomers",
                    ]
            )
            // The failures of the fits made beside the scoring (the models the scores do not carry) reach the
            // stored row too.
            let stored = try await environment.pool.query(
                """
                SELECT fit_failures ->> 'bgnbd', fit_failures ->> 'mbgnbd', fit_failures ->> 'pareto_nbd'
                FROM scoring_models WHERE model_id = $1
                """,
                [model.modelID]
            )
            #expect((0..<3).map { stored.first?[$0] } == ["degenerate", "degenerate", "degenerate"])
            #expect(model.bgnbd?.parameters == previous.model.bgnbd?.parameters)
            #expect(model.paretoNBD?.carriedOverFrom == previous.model.modelID)
            #expect(model.gammaGamma?.carriedOverFrom == previous.model.modelID)
            #expect(model.selected == .bgnbd)

            let scores = try await environment.pool.query(
                """
                SELECT count(*), count(p_alive), count(*) FILTER (WHERE p_alive = 'NaN'::float8),
                       count(expected_purchases_90d), count(clv_predicted)
                FROM customer_scores WHERE model_id = $1 AND orders_count > 0
                """,
                [model.modelID]
            )
            #expect(try scores[0].decode(0, as: Int.self) == 18)
            #expect(try scores[0].decode(1, as: Int.self) == 18)
            #expect(try scores[0].decode(2, as: Int.self) == 0)
            #expect(try scores[0].decode(3, as: Int.self) == 18)
            #expect(try scores[0].decode(4, as: Int.self) == 18)

            // crm model shows what failed and whose fits are in use.
            let object = try await Self.modelObject(environment.pool)
            let failures = try #require(object["fit_failures"] as? [String: String])
            #expect(failures["mbgnbd"] == "degenerate")
            let bgnbd = try #require(object["bgnbd"] as? [String: Any])
            #expect(bgnbd["carried_over_from"] as? Int == previous.model.modelID.map(Int.init))
            #expect(bgnbd["fit_failure"] as? String == "degenerate")
        }
    }
}
