import CRMContract
import CRMPostgres
import Foundation

/// Reads and writes `scoring_models`.
enum ModelStore {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    private static func json(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Stores a model and returns it with its id.
    static func insert(_ model: ScoringModel, on connection: isolated PostgresConnection) throws -> ScoringModel {
        let rows = try connection.query(
            """
            INSERT INTO scoring_models (as_of, as_of_requested, fitted_at, time_unit_days, customers, bgnbd,
                gamma_gamma, rfm_breakpoints, tier_cutoffs, settings, statistics, mbgnbd, pareto_nbd,
                selected_model, selection, fit_failures, value_quantiles)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9::jsonb, $10::jsonb, $11::jsonb,
                $12::jsonb, $13::jsonb, $14, $15::jsonb, $16::jsonb, $17::jsonb)
            RETURNING model_id
            """,
            [
                model.asOf, model.asOfRequested, model.fittedAt, model.settings.timeUnitDays, model.customers,
                try model.bgnbd.map(json), try model.gammaGamma.map(json), try model.rfm.map(json),
                try model.tierCutoffs.map(json), try json(model.settings), try json(model.statistics),
                try model.mbgnbd.map(json), try model.paretoNBD.map(json), model.selection?.selected.rawValue,
                try model.selection.map(json), try json(model.fitFailures), try model.valueQuantiles.map(json),
            ]
        )
        var stored = model
        stored.modelID = try rows.first?.decode(0, as: Int64.self)
        return stored
    }

    /// Records the fits that ended after the model was stored (``PurchaseModels/DeferredFits``).
    static func updateFits(_ model: ScoringModel, on connection: isolated PostgresConnection) throws {
        guard let id = model.modelID else { return }
        try connection.execute(
            """
            UPDATE scoring_models SET bgnbd = $2::jsonb, mbgnbd = $3::jsonb, pareto_nbd = $4::jsonb,
                gamma_gamma = $5::jsonb, fit_failures = $6::jsonb
            WHERE model_id = $1
            """,
            [
                id, try model.bgnbd.map(json), try model.mbgnbd.map(json), try model.paretoNBD.map(json),
                try model.gammaGamma.map(json), try json(model.fitFailures),
            ]
        )
    }

    /// Records the statistics known only after the scores are written.
    static func updateStatistics(
        _ model: ScoringModel,
        on connection: isolated PostgresConnection
    ) throws {
        guard let id = model.modelID else { return }
        try connection.execute(
            "UPDATE scoring_models SET statistics = $2::jsonb WHERE model_id = $1",
            [id, try json(model.statistics)]
        )
    }

    /// The newest model's quantiles of predicted values, or nil (before the first full rescoring that kept them).
    static func valueQuantiles(on connection: isolated PostgresConnection) throws -> ValueQuantiles? {
        let rows = try connection.query(
            "SELECT value_quantiles::text FROM scoring_models ORDER BY model_id DESC LIMIT 1"
        )
        guard let text = rows.first?[0] else { return nil }
        do {
            return try JSONDecoder().decode(ValueQuantiles.self, from: Data(text.utf8))
        } catch {
            throw ScoringError(.unreadableModel, "value_quantiles of the newest model: \(error)")
        }
    }

    /// The newest model, or nil before the first full rescoring.
    static func latest(on connection: isolated PostgresConnection) throws -> ScoringModel? {
        let rows = try connection.query(
            """
            SELECT model_id, as_of, as_of_requested, fitted_at, customers, bgnbd, gamma_gamma, rfm_breakpoints,
                   tier_cutoffs, settings, statistics, mbgnbd, pareto_nbd, selection, fit_failures, value_quantiles
            FROM scoring_models ORDER BY model_id DESC LIMIT 1
            """
        )
        guard let row = rows.first else { return nil }
        let decoder = JSONDecoder()
        func json<T: Decodable>(_ index: Int, _ type: T.Type) throws -> T? {
            guard let text = row[index] else { return nil }
            do {
                return try decoder.decode(T.self, from: Data(text.utf8))
            } catch {
                throw ScoringError(.unreadableModel, "column \(row.columns[index]) of model \(row[0] ?? "?"): \(error)")
            }
        }
        guard let settings = try json(9, ScoringConfiguration.self) else {
            throw ScoringError(.unreadableModel, "model \(row[0] ?? "?") has no settings")
        }
        return ScoringModel(
            modelID: try row.decode(0),
            asOf: try row.decode(1),
            asOfRequested: try row.decode(2),
            fittedAt: try row.decode(3),
            customers: try row.decode(4),
            settings: settings,
            bgnbd: try json(5, ScoringModel.Fitted<BGNBD>.self),
            mbgnbd: try json(11, ScoringModel.Fitted<MBGNBD>.self),
            paretoNBD: try json(12, ScoringModel.Fitted<ParetoNBD>.self),
            gammaGamma: try json(6, ScoringModel.Fitted<GammaGamma>.self),
            selection: try json(13, PurchaseModelSelection.self),
            fitFailures: try json(14, [String: String].self) ?? [:],
            rfm: try json(7, RFMBreakpoints.self),
            tierCutoffs: try json(8, TierCutoffs.self),
            valueQuantiles: try json(15, ValueQuantiles.self),
            statistics: try json(10, [String: Double].self) ?? [:]
        )
    }
}
