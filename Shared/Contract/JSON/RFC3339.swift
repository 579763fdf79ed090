import CRMSupport

/// RFC 3339 `date-time` parsing and UTC formatting, by hand.
///
/// `ISO8601DateFormatter` is a class that is not `Sendable`, accepts forms RFC 3339 does not, and needs an option to
/// read fractional seconds that then makes them mandatory. The grammar is small; integer arithmetic gives exact
/// milliseconds with no calendar or time zone database involved.
enum RFC3339 {
    /// Longer input is refused before parsing; the longest sensible form is 35 bytes with nanoseconds.
    private static let maximumLength = 64

    /// Whole milliseconds since 1970 for a valid `date-time`, or `nil`.
    static func parse(_ text: String) -> Int64? {
        guard let fields = fields(of: text) else { return nil }
        let (year, month, day) = (fields.year, fields.month, fields.day)
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            fields.hour <= 23, fields.minute <= 59, fields.second <= 59,
            fields.offsetHour <= 23, fields.offsetMinute <= 59
        else { return nil }
        let days = Int64(daysSinceEpoch(year: year, month: month, day: day))
        let seconds =
            days * 86_400 + Int64(fields.hour * 3_600 + fields.minute * 60 + fields.second)
            - Int64(fields.offsetSign * (fields.offsetHour * 3_600 + fields.offsetMinute * 60))
        return seconds * 1_000 + Int64(fields.milliseconds)
    }

    /// Whether the text has the shape of a `date-time`, whatever its numbers; tells the two refusals apart.
    static func isWellFormed(_ text: String) -> Bool {
        fields(of: text) != nil
    }

    /// `yyyy-mm-ddThh:mm:ss.sssZ` for milliseconds since 1970.
    static func format(_ milliseconds: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        append(milliseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``format(_:)``'s text to `bytes`, digit by digit: a canonical order form and every scoring event
    /// write one, and building it from padded strings was the largest part of writing a canonical form.
    static func append(_ milliseconds: Int64, to bytes: inout [UInt8]) {
        let (seconds, millisecond) = floorDivide(milliseconds, 1_000)
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: Int(days))
        let time = Int(secondOfDay)
        bytes.appendUTCDateTime(
            year: year,
            month: month,
            day: day,
            hour: time / 3_600,
            minute: time / 60 % 60,
            second: time % 60,
            fraction: Int(millisecond),
            fractionDigits: 3
        )
    }

    // MARK: - Grammar

    private struct Fields {
        var year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, milliseconds = 0
        var offsetSign = 1, offsetHour = 0, offsetMinute = 0
    }

    private static func fields(of text: String) -> Fields? {
        let bytes = Array(text.utf8.prefix(maximumLength + 1))
        guard bytes.count <= maximumLength, bytes.count >= 20 else { return nil }
        var cursor = 0
        func number(_ width: Int) -> Int? {
            guard cursor + width <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[cursor..<cursor + width] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            cursor += width
            return value
        }
        func expect(_ accepted: UInt8...) -> Bool {
            guard cursor < bytes.count, accepted.contains(bytes[cursor]) else { return false }
            cursor += 1
            return true
        }
        var fields = Fields()
        guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
            let day = number(2), expect(UInt8(ascii: "T"), UInt8(ascii: "t")),
            let hour = number(2), expect(UInt8(ascii: ":")), let minute = number(2), expect(UInt8(ascii: ":")),
            let second = number(2)
        else { return nil }
        (fields.year, fields.month, fields.day) = (year, month, day)
        (fields.hour, fields.minute, fields.second) = (hour, minute, second)
        if expect(UInt8(ascii: ".")) {
            let start = cursor
            while cursor < bytes.count, bytes[cursor] >= UInt8(ascii: "0"), bytes[cursor] <= UInt8(ascii: "9") {
                // Only the first three digits count; the rest are truncated.
                if cursor - start < 3 { fields.milliseconds = fields.milliseconds * 10 + Int(bytes[cursor] - 48) }
                cursor += 1
            }
            guard cursor > start else { return nil }
            for _ in min(cursor - start, 3)..<3 { fields.milliseconds *= 10 }
        }
        if expect(UInt8(ascii: "Z"), UInt8(ascii: "z")) {
            return cursor == bytes.count ? fields : nil
        }
        guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "+") || bytes[cursor] == UInt8(ascii: "-")
        else { return nil }
        fields.offsetSign = bytes[cursor] == UInt8(ascii: "-") ? -1 : 1
        cursor += 1
        guard let offsetHour = number(2), expect(UInt8(ascii: ":")), let offsetMinute = number(2),
            cursor == bytes.count
        else { return nil }
        (fields.offsetHour, fields.offsetMinute) = (offsetHour, offsetMinute)
        return fields
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, after Howard Hinnant's public-domain algorithms)

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civilDate(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value / divisor - (value % divisor < 0 ? 1 : 0)
        return (quotient, value - quotient * divisor)
    }
}
