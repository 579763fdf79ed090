/// Why a scoring could not be done.
public struct ScoringError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The kind of failure.
    public enum Code: String, Sendable, Hashable {
        /// A row of the aggregation could not be read.
        case unreadableRow
        /// Another replica or `crm rescore` holds the full-rescoring lock.
        case rescoringInProgress
        /// A stored model could not be read back.
        case unreadableModel
        /// The as-of time is in the future or otherwise unusable.
        case invalidAsOf
        /// A holdout validation's periods or data cannot measure the models (no purchase in the calibration
        /// period, a holdout that ends before it starts, too few calibration customers).
        case invalidValidation
        /// The full rescoring's spill file could not be made, written or read back (a full or missing
        /// `CRM_SCORING_SPILL_DIR`).
        case spillFailed
    }

    /// The kind of failure.
    public var code: Code
    /// What was being done, in words; never customer data.
    public var context: String

    /// An error of `code` with its context.
    public init(_ code: Code, _ context: String) {
        self.code = code
        self.context = context
    }

    public var description: String { "scoring failed (\(code.rawValue)): \(context)" }
}
