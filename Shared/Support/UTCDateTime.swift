import Foundation

/// UTC date-times with microseconds (`2026-11-20T02:15:00.123456Z`), written without a formatter: statement
/// parameters, log lines and reports print many of them. PostgreSQL reads the text as a `timestamptz`.
public enum UTCDateTime {
    /// `2026-11-20T02:15:00.123456Z`.
    public static func format(_ date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        append(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``format(_:)``'s text as UTF-8, for statement parameters built as bytes.
    public static func append(_ date: Date, to bytes: inout [UInt8]) {
        let interval = date.timeIntervalSince1970
        var seconds = Int(interval.rounded(.down))
        var micros = Int(((interval - Double(seconds)) * 1_000_000).rounded())
        if micros >= 1_000_000 {
            seconds += 1
            micros -= 1_000_000
        }
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        bytes.appendUTCDateTime(
            year: Int(parts.tm_year) + 1900,
            month: Int(parts.tm_mon) + 1,
            day: Int(parts.tm_mday),
            hour: Int(parts.tm_hour),
            minute: Int(parts.tm_min),
            second: Int(parts.tm_sec),
            fraction: micros,
            fractionDigits: 6
        )
    }
}
