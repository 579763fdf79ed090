import CRMSupport
import Foundation

/// Cohorts by month of first purchase, and how many of each cohort bought in each month after it: counted
/// customer by customer as a full rescoring reads the orders, with no customer kept.
///
/// Months are calendar months in UTC. A customer's cohort is the month of its first purchase; `active[k]` counts
/// the cohort's customers with a purchase in the k-th month after it (k = 0 is the cohort month itself, so
/// `active[0]` is the cohort's size).
public struct CohortTally: Sendable, Hashable {
    /// One cohort: its month (`YYYY-MM`), its size, and its customers with a purchase in each month after it.
    public struct Cohort: Sendable, Hashable, Codable {
        public var month: String
        public var customers: Int
        public var active: [Int]

        public init(month: String, customers: Int, active: [Int]) {
            self.month = month
            self.customers = customers
            self.active = active
        }
    }

    /// Active counts by cohort (months since 1970-01), index k = months after the cohort month.
    private var counts: [Int: [Int]] = [:]
    private var scratch: [Int] = []

    public init() {}

    /// Adds one customer from its purchase days (days since 1970-01-01, UTC, any order, repeats allowed); a
    /// customer without a purchase day is not counted.
    public mutating func add(purchaseDays: some Sequence<Int>) {
        scratch.removeAll(keepingCapacity: true)
        var lastDay = Int.min
        var lastMonth = 0
        for day in purchaseDays {
            if day != lastDay {
                lastDay = day
                lastMonth = Self.month(ofDay: day)
            }
            scratch.append(lastMonth)
        }
        guard !scratch.isEmpty else { return }
        scratch.sort()
        Self.count(distinct: scratch, into: &counts[scratch[0], default: []])
    }

    /// Adds one to `active` at each distinct month of `months` (sorted, the first the cohort's) after the first.
    private static func count(distinct months: [Int], into active: inout [Int]) {
        let first = months[0]
        var previous = Int.min
        for month in months where month != previous {
            previous = month
            let offset = month - first
            if active.count <= offset { active += repeatElement(0, count: offset + 1 - active.count) }
            active[offset] += 1
        }
    }

    /// The cohorts in month order, each with an `active` entry for every month up to the month of `asOf`.
    public func cohorts(asOf: Date) -> [Cohort] {
        let lastMonth = Self.month(ofDay: Int((asOf.timeIntervalSince1970 / 86_400).rounded(.down)))
        return counts.keys.sorted().map { first in
            var active = counts[first] ?? []
            let span = max(lastMonth - first + 1, active.count)
            active += repeatElement(0, count: span - active.count)
            return Cohort(month: Self.label(month: first), customers: active.first ?? 0, active: active)
        }
    }

    /// Months since 1970-01 of a day since 1970-01-01 (proleptic Gregorian, after Howard Hinnant's algorithm).
    static func month(ofDay days: Int) -> Int {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year - 1970) * 12 + month - 1
    }

    /// `YYYY-MM` of months since 1970-01.
    static func label(month: Int) -> String {
        let year = 1970 + Int((Double(month) / 12).rounded(.down))
        let number = month - (year - 1970) * 12 + 1
        return String(year).leftPadded(to: 4, with: "0") + "-" + String(number).leftPadded(to: 2, with: "0")
    }
}
