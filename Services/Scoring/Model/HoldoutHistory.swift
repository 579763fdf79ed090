import CRMSupport
import Foundation

/// One customer's purchases split at a calibration end: the summary of the calibration period, as a model fitted
/// on it sees the customer, and the transactions the customer then made in the holdout period.
///
/// Transactions are purchase days (UTC), as in ``TransactionSummary``: the calibration summary's first one is not
/// a repeat, and every holdout day is one (the customer had bought before). A day that holds purchases on both
/// sides of the calibration end is a calibration transaction only.
public struct HoldoutHistory: Sendable, Hashable {
    /// The history up to the calibration end, its age T measured to the calibration end's day.
    public var calibration: TransactionSummary
    /// Purchase days after the calibration end, up to the holdout end.
    public var holdoutTransactions: Int

    /// A split history from its two parts.
    public init(calibration: TransactionSummary, holdoutTransactions: Int) {
        self.calibration = calibration
        self.holdoutTransactions = holdoutTransactions
    }

    /// Splits a customer's purchase times (seconds since 1970, any order) at `calibrationEnd`; purchases after
    /// `holdoutEnd` are ignored. Nil when the customer made no purchase at or before the calibration end: only
    /// customers known at the calibration end are calibration customers.
    public init?(purchaseTimes: some Sequence<Double>, calibrationEnd: Double, holdoutEnd: Double, unit: TimeUnit) {
        var calibrationDays: [Int] = []
        var holdoutDays: [Int] = []
        for time in purchaseTimes where time <= holdoutEnd {
            let day = Self.day(time)
            if time <= calibrationEnd { calibrationDays.append(day) } else { holdoutDays.append(day) }
        }
        guard !calibrationDays.isEmpty else { return nil }
        calibrationDays.sort()
        holdoutDays.sort()
        let firstDay = calibrationDays[0]
        let lastDay = calibrationDays[calibrationDays.count - 1]
        var distinctCalibrationDays = 1
        for (previous, day) in zip(calibrationDays, calibrationDays.dropFirst()) where day != previous {
            distinctCalibrationDays += 1
        }
        var holdout = 0
        var previous = lastDay  // the calibration end's own day is not a second transaction
        for day in holdoutDays where day != previous {
            holdout += 1
            previous = day
        }
        let repeats = distinctCalibrationDays - 1
        self.calibration = TransactionSummary(
            frequency: repeats,
            recency: Double(lastDay - firstDay) / unit.days,
            age: Double(max(Self.day(calibrationEnd), lastDay) - firstDay) / unit.days
        )
        self.holdoutTransactions = holdout
    }

    /// The UTC day number (days since 1970-01-01) of a time in seconds since 1970.
    static func day(_ seconds: Double) -> Int {
        Int((seconds / 86_400).rounded(.down))
    }
}
