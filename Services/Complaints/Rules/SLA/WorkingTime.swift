import CRMSupport
import Foundation
import Synchronization

/// The time SLA targets are counted in: every second, or only a desk's open hours.
public enum WorkingTime: Hashable, Sendable {
    /// Around the clock: a desk without `business_hours`.
    case continuous
    /// Only while the desk is open.
    case businessHours(BusinessHours)

    /// The instant at which `seconds` of working time have passed since `start`.
    ///
    /// With business hours a start outside them waits for the next opening; a result always falls
    /// inside or at the end of a window, never in a closed period.
    public func date(byAdding seconds: TimeInterval, to start: Date) -> Date {
        var remaining = max(seconds, 0)
        for interval in intervals(from: start) {
            if remaining <= interval.duration {
                return interval.start.addingTimeInterval(remaining)
            }
            remaining -= interval.duration
        }
        // Only reachable if the hours never open again, which validation rules out.
        return .distantFuture
    }

    /// Working time between two instants; 0 when `end` is not after `start`.
    public func seconds(from start: Date, to end: Date) -> TimeInterval {
        var total: TimeInterval = 0
        for interval in intervals(from: start) {
            if interval.start >= end { break }
            total += min(interval.end, end).timeIntervalSince(interval.start)
        }
        return total
    }

    /// The working intervals from `start` on, in order: one unbounded interval around the clock,
    /// the desk's open intervals otherwise.
    func intervals(from start: Date) -> WorkingIntervals {
        switch self {
        case .continuous: WorkingIntervals(hours: nil, start: start)
        case .businessHours(let hours): WorkingIntervals(hours: hours, start: start)
        }
    }
}

/// Working intervals from an instant on, computed one local day at a time; lazy and unbounded, so
/// callers stop when they have what they need.
struct WorkingIntervals: Sequence, IteratorProtocol {
    /// `nil` around the clock.
    private let hours: BusinessHours?
    private let start: Date
    private let calendar: Calendar
    private var day: Date
    private var pending: [DateInterval] = []
    private var daysWithoutOpening = 0
    private var finished = false

    init(hours: BusinessHours?, start: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = hours?.timeZone ?? .gmt
        self.hours = hours
        self.start = start
        self.calendar = calendar
        self.day = calendar.startOfDay(for: start)
    }

    /// The next interval; `nil` after the one unbounded interval around the clock, or after ten years of
    /// closed days, which validated hours never have.
    mutating func next() -> DateInterval? {
        guard let hours else {
            defer { finished = true }
            // `max` keeps DateInterval's end ≥ start precondition even for a start beyond year 4000.
            return finished ? nil : DateInterval(start: start, end: Swift.max(start, .distantFuture))
        }
        while pending.isEmpty {
            guard daysWithoutOpening < 3_660 else { return nil }
            let entry = WorkingDayCache.shared.entry(hours, day: day, calendar: calendar)
            pending = entry.intervals.compactMap { [start] interval in
                interval.end > start ? DateInterval(start: Swift.max(interval.start, start), end: interval.end) : nil
            }
            daysWithoutOpening = pending.isEmpty ? daysWithoutOpening + 1 : 0
            day = entry.next
        }
        return pending.removeFirst()
    }
}

/// The open intervals of one local day of one desk's hours, and where the next local day starts, memoised.
///
/// Foundation's calendar arithmetic costs tens of microseconds a call, and every SLA walk (two deadlines per routed
/// complaint, a plan per sweep) visits the same few days of the same few desks. Entries are pure functions of
/// (hours, day), so sharing them across tasks changes no result; the table is emptied when it grows large.
final class WorkingDayCache: Sendable {
    static let shared = WorkingDayCache()

    struct Entry: Sendable {
        var intervals: [DateInterval]
        var next: Date
    }

    private struct Key: Hashable {
        var hours: BusinessHours
        var day: Date
    }

    private static let capacity = 20_000
    private let entries = Mutex<[Key: Entry]>([:])

    func entry(_ hours: BusinessHours, day: Date, calendar: Calendar) -> Entry {
        let key = Key(hours: hours, day: day)
        if let hit = entries.withLock({ $0[key] }) { return hit }
        let entry = Entry(
            intervals: hours.intervals(onDayStarting: day, calendar: calendar),
            next: BusinessHours.nextDay(after: day, calendar: calendar)
        )
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = entry
        }
        return entry
    }
}

extension BusinessHours {
    /// The open intervals of one local day, in order.
    fileprivate func intervals(onDayStarting day: Date, calendar: Calendar) -> [DateInterval] {
        let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
        guard let year = parts.year, let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday
        else { return [] }
        let pad = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        if closedDates.contains("\(year)-\(pad(month))-\(pad(dayOfMonth))") {
            return []
        }
        return
            windows
            .filter { window in window.days.contains { $0.calendarWeekday == weekday } }
            .compactMap { window in
                guard let opens = Self.instant(window.opens, on: day, calendar: calendar),
                    let closes = Self.instant(window.closes, on: day, calendar: calendar),
                    closes > opens
                else { return nil }
                return DateInterval(start: opens, end: closes)
            }
            .sorted { $0.start < $1.start }
    }

    /// The instant of a local time on a local day; `24:00` is the next day's start.
    ///
    /// Foundation's `Calendar` resolves a local time that a daylight saving change skips or repeats.
    private static func instant(_ time: TimeOfDay, on day: Date, calendar: Calendar) -> Date? {
        if time.hour == 24 {
            return nextDay(after: day, calendar: calendar)
        }
        return calendar.date(bySettingHour: time.hour, minute: time.minute, second: 0, of: day)
    }

    fileprivate static func nextDay(after day: Date, calendar: Calendar) -> Date {
        // Adding a calendar day, not 86 400 seconds, keeps days right across daylight saving changes.
        let next = calendar.date(byAdding: .day, value: 1, to: day) ?? day.addingTimeInterval(86_400)
        return calendar.startOfDay(for: next)
    }
}
