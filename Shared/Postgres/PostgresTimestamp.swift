import CRMSupport
import Foundation

/// Fast parsing of PostgreSQL's ISO timestamp text into `Date` (``UTCDateTime`` writes the other way).
///
/// Sessions run with `TimeZone=UTC` and `DateStyle=ISO`, so `timestamptz` columns arrive as
/// `2026-11-20 02:15:00.123456+00`; scans of a million rows make a hand-written parser worth it.
public enum PostgresTimestamp {
    /// Parses `YYYY-MM-DD[ T]HH:MM:SS[.fraction][Z|±HH[:MM]]`; no zone means UTC.
    public static func parse(_ text: String) -> Date? {
        var utf8 = Array(text.utf8)
        return utf8.withUnsafeMutableBufferPointer { parse(bytes: UnsafeBufferPointer($0)) }
    }

    static func parse(bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for _ in 0..<digits {
                let byte = bytes[index]
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
                index += 1
            }
            return value
        }
        func expect(_ options: UInt8...) -> Bool {
            guard index < bytes.count, options.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2) else {
            return nil
        }
        var hour = 0
        var minute = 0
        var second = 0
        var fraction = 0.0
        if index < bytes.count {
            guard expect(32, 84, 116), let h = number(2), expect(58), let m = number(2), expect(58),
                let s = number(2)
            else { return nil }
            (hour, minute, second) = (h, m, s)
            if index < bytes.count && bytes[index] == 46 {
                index += 1
                var scale = 0.1
                while index < bytes.count, bytes[index] >= 48 && bytes[index] <= 57 {
                    fraction += Double(bytes[index] - 48) * scale
                    scale /= 10
                    index += 1
                }
            }
        }
        var offsetSeconds = 0
        if index < bytes.count {
            let sign = bytes[index]
            if sign == 90 || sign == 122 {
                index += 1
            } else if sign == 43 || sign == 45 {
                index += 1
                guard let offsetHours = number(2) else { return nil }
                var offsetMinutes = 0
                if index < bytes.count {
                    _ = expect(58)
                    guard let minutes = number(2) else { return nil }
                    offsetMinutes = minutes
                }
                offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (sign == 45 ? -1 : 1)
            } else {
                return nil
            }
        }
        guard index == bytes.count, (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
            second < 61
        else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = timegm(&parts)
        return Date(timeIntervalSince1970: Double(seconds - offsetSeconds) + fraction)
    }
}
