import CRMPostgres
import CRMSupport
import Foundation

/// `crm model validate`: the purchase models fitted on the stored orders up to a calibration end and measured on
/// what the calibration customers bought in the holdout period after it; the result is stored with the newest
/// model (the one it validates), and under `CRM_SCORING_MODEL=auto` the next full rescoring selects by it.
public struct HoldoutValidator: Sendable {
    public let pool: PostgresPool
    /// The model settings: the time unit and the minimum of customers for a fit.
    public let settings: ScoringConfiguration

    /// A validator over `pool` with `settings`.
    public init(pool: PostgresPool, settings: ScoringConfiguration) {
        self.pool = pool
        self.settings = settings
    }

    /// Validates with the orders up to `calibrationEnd` as the models' data and the time after it up to
    /// `holdoutEnd` (the newest purchase when nil) as the holdout; stores and returns the result.
    ///
    /// Throws ``ScoringError/Code/invalidValidation`` when the holdout does not end at least a day after the
    /// calibration end, or fewer calibration customers than the settings' minimum bought by then.
    public func run(calibrationEnd: Date, holdoutEnd requested: Date? = nil) async throws -> StoredValidation {
        let settings = self.settings
        let (histories, holdoutEnd) = try await pool.transaction(isolation: .repeatableRead) { connection in
            guard let holdoutEnd = try requested ?? ValidationStore.newestPurchase(on: connection) else {
                throw ScoringError(.invalidValidation, "no purchase is stored yet")
            }
            let days =
                HoldoutHistory.day(holdoutEnd.timeIntervalSince1970)
                - HoldoutHistory.day(calibrationEnd.timeIntervalSince1970)
            guard days >= 1 else {
                throw ScoringError(
                    .invalidValidation,
                    "the holdout ends \(UTCDateTime.format(holdoutEnd)), not a day after the calibration end "
                        + UTCDateTime.format(calibrationEnd)
                )
            }
            let histories = try ValidationStore.histories(
                calibrationEnd: calibrationEnd,
                holdoutEnd: holdoutEnd,
                unit: settings.timeUnit,
                on: connection
            )
            return (histories, holdoutEnd)
        }
        guard histories.count >= settings.minimumFitCustomers else {
            throw ScoringError(
                .invalidValidation,
                "\(histories.count) customers bought by the calibration end, fewer than the "
                    + "\(settings.minimumFitCustomers) a fit needs (CRM_SCORING_MIN_FIT_CUSTOMERS)"
            )
        }
        let result = HoldoutValidation.run(
            histories,
            calibrationEnd: calibrationEnd,
            holdoutEnd: holdoutEnd,
            holdoutDays: HoldoutHistory.day(holdoutEnd.timeIntervalSince1970)
                - HoldoutHistory.day(calibrationEnd.timeIntervalSince1970),
            unit: settings.timeUnit
        )
        return try await pool.transaction { connection in
            let newest = try connection.query("SELECT max(model_id) FROM scoring_models").first?.decodeIfPresent(
                0,
                as: Int64.self
            )
            return try ValidationStore.insert(result, modelID: newest, scheduled: false, on: connection)
        }
    }
}
