import CRMPostgres
import Foundation

/// Reads and writes `base_reports`: one row per full rescoring, the report as JSON text.
public enum BaseReportStore {
    /// The as-of time of the newest stored report, nil before the first.
    static func latestAsOf(on connection: isolated PostgresConnection) throws -> Date? {
        try connection.query("SELECT as_of FROM base_reports ORDER BY report_id DESC LIMIT 1").first?.decode(
            0,
            as: Date.self
        )
    }

    /// Stores a report.
    static func insert(_ report: BaseReport, on connection: isolated PostgresConnection) throws {
        try connection.execute(
            "INSERT INTO base_reports (model_id, as_of, report) VALUES ($1, $2, $3::json)",
            [report.modelID, report.asOf.date, try report.json()]
        )
    }

    /// The newest report's JSON as stored (`crm report --json`), nil before the first full rescoring: one row read
    /// by its primary key, whatever the size of the base.
    public static func latestJSON(pool: PostgresPool) async throws -> String? {
        try await pool.query("SELECT report::text FROM base_reports ORDER BY report_id DESC LIMIT 1").first?[0]
    }

    /// The newest report, decoded.
    public static func latest(pool: PostgresPool) async throws -> BaseReport? {
        guard let json = try await latestJSON(pool: pool) else { return nil }
        do {
            return try JSONDecoder().decode(BaseReport.self, from: Data(json.utf8))
        } catch {
            throw ScoringError(.unreadableRow, "the stored base report does not decode: \(error)")
        }
    }
}
