import CRMContract
import CRMSupport
import Foundation

/// When a desk is open, in its own time zone; SLA targets count only open time.
///
/// In JSON (`desks[].business_hours`):
/// `{"time_zone": "Asia/Shanghai", "windows": [{"days": ["mon", "tue"], "opens": "09:00", "closes": "18:00"}],
///   "closed_dates": ["2026-10-01"]}`. Several windows on one day give a lunch break; `closes` may be
/// `24:00`. Local times follow the zone's daylight saving rules through Foundation's `Calendar`.
public struct BusinessHours: Codable, Hashable, Sendable {
    /// A day of the week, as written in JSON.
    public enum Weekday: String, CaseIterable, Codable, Hashable, Sendable {
        /// Monday to Sunday, as `mon` ... `sun` in JSON.
        case mon, tue, wed, thu, fri, sat, sun

        /// Foundation's weekday number: 1 is Sunday.
        var calendarWeekday: Int {
            switch self {
            case .sun: 1
            case .mon: 2
            case .tue: 3
            case .wed: 4
            case .thu: 5
            case .fri: 6
            case .sat: 7
            }
        }
    }

    /// A wall-clock time, `HH:MM` in JSON, from `00:00` to `24:00`.
    public struct TimeOfDay: Codable, Hashable, Comparable, Sendable {
        /// 0...24; 24 only as `24:00`, the end of the day.
        public var hour: Int
        /// 0...59.
        public var minute: Int

        /// Creates a time of day; `nil` when out of range.
        public init?(hour: Int, minute: Int) {
            guard (0...23).contains(hour) && (0...59).contains(minute) || hour == 24 && minute == 0 else {
                return nil
            }
            self.hour = hour
            self.minute = minute
        }

        /// Decodes `HH:MM`.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }),
                let hour = Int(parts[0]), let minute = Int(parts[1]),
                let time = TimeOfDay(hour: hour, minute: minute)
            else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "\"\(text)\" is not a time HH:MM between 00:00 and 24:00"
                )
            }
            self = time
        }

        /// Encodes `HH:MM`.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            let pad = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
            try container.encode("\(pad(hour)):\(pad(minute))")
        }

        var minutesSinceMidnight: Int { hour * 60 + minute }

        /// Orders by time of day.
        public static func < (lhs: Self, rhs: Self) -> Bool {
            lhs.minutesSinceMidnight < rhs.minutesSinceMidnight
        }
    }

    /// Opening hours shared by some days of the week.
    public struct Window: Codable, Hashable, Sendable {
        /// The days this window applies to.
        public var days: [Weekday]
        /// Local opening time.
        public var opens: TimeOfDay
        /// Local closing time, after `opens`.
        public var closes: TimeOfDay

        /// Creates a window.
        public init(days: [Weekday], opens: TimeOfDay, closes: TimeOfDay) {
            self.days = days
            self.opens = opens
            self.closes = closes
        }

        enum CodingKeys: String, CodingKey {
            case days, opens, closes
        }

        /// Decodes, rejecting unknown keys.
        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            days = try container.decode([Weekday].self, forKey: .days)
            opens = try container.decode(TimeOfDay.self, forKey: .opens)
            closes = try container.decode(TimeOfDay.self, forKey: .closes)
        }
    }

    /// The desk's time zone. Key `time_zone`, an IANA identifier such as `Asia/Shanghai`.
    public var timeZone: TimeZone
    /// The opening windows.
    public var windows: [Window]
    /// Local dates the desk is closed all day (public holidays), `YYYY-MM-DD`. Key `closed_dates`, default none.
    public var closedDates: Set<String>

    /// Creates business hours.
    public init(timeZone: TimeZone, windows: [Window], closedDates: Set<String> = []) {
        self.timeZone = timeZone
        self.windows = windows
        self.closedDates = closedDates
    }

    enum CodingKeys: String, CodingKey {
        case timeZone = "time_zone"
        case windows
        case closedDates = "closed_dates"
    }

    /// Decodes, rejecting an unknown time zone identifier.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let identifier = try container.decode(String.self, forKey: .timeZone)
        guard let timeZone = TimeZone(identifier: identifier) else {
            throw DecodingError.dataCorruptedError(
                forKey: .timeZone,
                in: container,
                debugDescription: "unknown time zone \"\(identifier)\""
            )
        }
        self.timeZone = timeZone
        self.windows = try container.decode([Window].self, forKey: .windows)
        self.closedDates = try container.decodeIfPresent(Set<String>.self, forKey: .closedDates) ?? []
    }

    /// Encodes the time zone as its identifier.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(timeZone.identifier, forKey: .timeZone)
        try container.encode(windows, forKey: .windows)
        try container.encode(closedDates.sorted(), forKey: .closedDates)
    }

    /// Records windows that are empty or overlap (overlaps would count time twice), and bad dates.
    func check(_ issues: inout ConfigurationIssues, at location: String) {
        if windows.isEmpty {
            issues.add(.invalidValue, at: location, "needs at least one window, or leave business_hours out for 24/7")
        }
        for (index, window) in windows.enumerated() where window.opens >= window.closes || window.days.isEmpty {
            issues.add(.invalidValue, at: "\(location).windows[\(index)]", "needs days and opens before closes")
        }
        for day in Weekday.allCases {
            let spans = windows.filter { $0.days.contains(day) }.sorted { $0.opens < $1.opens }
            for (earlier, later) in zip(spans, spans.dropFirst()) where later.opens < earlier.closes {
                issues.add(.invalidValue, at: "\(location).windows", "windows overlap on \(day.rawValue)")
            }
        }
        for date in closedDates.sorted() where Self.parseDate(date) == nil {
            issues.add(.invalidValue, at: "\(location).closed_dates", "\"\(date)\" is not a date YYYY-MM-DD")
        }
    }

    /// `YYYY-MM-DD` as year, month and day.
    static func parseDate(_ text: String) -> (year: Int, month: Int, day: Int)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        return (year, month, day)
    }
}
