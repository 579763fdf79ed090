import CRMPostgres
import Foundation

/// The model object of the interface: `crm model --json`.
///
/// `bgnbd` (`r`, `alpha`, `a`, `b`), `mbgnbd` (`r`, `alpha`, `a`, `b`), `pareto_nbd` (`r`, `alpha`, `s`, `beta`)
/// and `gamma_gamma` (`p`, `q`, `v`), each with `log_likelihood`, `standard_errors` (the same keys as its
/// parameters), `converged`, `customers`, and `carried_over_from` and `fit_failure` when this run's fit failed and
/// an earlier one is in use; `selected` and `selection` (why); `fit_failures`; `validation`, the newest holdout
/// validation; `time_unit`, `as_of`, `customers`, `fitted_at`, and the run's cut-offs and statistics.
public enum ModelView {
    /// The newest model as JSON, or nil before the first full rescoring.
    public static func json(pool: PostgresPool) async throws -> String? {
        let rows = try await pool.query(
            """
            SELECT json_build_object(
                'model_id', m.model_id,
                'bgnbd', \(fitted("m.bgnbd", PurchaseModelKind.bgnbd.parameterNames)),
                'mbgnbd', \(fitted("m.mbgnbd", PurchaseModelKind.mbgnbd.parameterNames)),
                'pareto_nbd', \(fitted("m.pareto_nbd", PurchaseModelKind.paretoNBD.parameterNames)),
                'gamma_gamma', \(fitted("m.gamma_gamma", ["p", "q", "v"])),
                'selected', coalesce(m.selected_model, CASE WHEN m.bgnbd IS NOT NULL THEN 'bgnbd' END),
                'selection', m.selection,
                'fit_failures', coalesce(m.fit_failures, '{}'::jsonb),
                'validation', (
                    SELECT v.result || jsonb_build_object('validation_id', v.validation_id, 'model_id', v.model_id,
                                                          'validated_at', v.validated_at, 'scheduled', v.scheduled)
                    FROM scoring_validations v ORDER BY v.validation_id DESC LIMIT 1),
                'time_unit', CASE m.time_unit_days WHEN 7 THEN 'week' WHEN 1 THEN 'day'
                                 ELSE m.time_unit_days::text || ' days' END,
                'time_unit_days', m.time_unit_days,
                'as_of', m.as_of,
                'as_of_requested', m.as_of_requested,
                'customers', m.customers,
                'fitted_at', m.fitted_at,
                'tier_cutoffs', m.tier_cutoffs,
                'rfm_breakpoints', m.rfm_breakpoints,
                'statistics', m.statistics
            )::text
            FROM scoring_models m ORDER BY m.model_id DESC LIMIT 1
            """
        )
        return rows.first?[0]
    }

    /// The JSON object of a fitted model stored in `column` (as ``ScoringModel/Fitted`` encodes it): its
    /// parameters under their own names, then its fit statistics. Column and names are code constants.
    private static func fitted(_ column: String, _ names: [String]) -> String {
        let parameters = names.map { "'\($0)', \(column) #> '{parameters,\($0)}'" }.joined(separator: ", ")
        return """
            CASE WHEN \(column) IS NULL THEN NULL ELSE json_build_object(\(parameters),
                'log_likelihood', \(column) -> 'logLikelihood', 'standard_errors', \(column) -> 'standardErrors',
                'converged', \(column) -> 'converged', 'customers', \(column) -> 'customers',
                'carried_over_from', \(column) -> 'carriedOverFrom', 'fit_failure', \(column) -> 'fitFailure') END
            """
    }
}
