import CRMPostgres
import Foundation
import Logging
import Metrics

/// The scoring gauges that describe the whole base, read from the database so every replica tells the same:
/// `crm_scoring_last_full_rescore_timestamp_seconds` (when the newest full rescoring's model was fitted) and the nine
/// `crm_scoring_grid_customers{cell}` as that rescoring counted them. Before any full rescoring both are absent.
///
/// ``RescoreSchedule`` refreshes them at every check (a minute by default), the one place they are set.
struct ScoringGauges: Sendable {
    let pool: PostgresPool

    func refresh() async throws {
        let rows = try await pool.query(
            """
            SELECT extract(epoch FROM fitted_at)::double precision, statistics::text
            FROM scoring_models ORDER BY fitted_at DESC LIMIT 1
            """
        )
        guard let row = rows.first else { return }
        let fitted: Double = try row.decode(0)
        Gauge(label: "crm_scoring_last_full_rescore_timestamp_seconds").record(fitted)
        let text: String = try row.decode(1)
        let statistics =
            (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
        for value in GridLevel.allCases {
            for second in GridLevel.allCases {
                let cell = "\(value.rawValue)-\(second.rawValue)"
                let count = (statistics["customers.grid.\(cell)"] as? NSNumber)?.doubleValue ?? 0
                Gauge(label: "crm_scoring_grid_customers", dimensions: [("cell", cell)]).record(count)
            }
        }
    }
}
