import CRMSupport
import Foundation

/// What the CDNOW master file says of each customer, computed here from the file itself: the figures the system
/// must reproduce after storing, scoring and exporting it.
struct CDNOWTruth {
    struct Customer {
        var orders = 0
        var total = Decimal.zero
        /// Purchase days, `YYYYMMDD`.
        var days: Set<String> = []
        var first = "99999999"
        var last = "00000000"

        /// Months since 1970-01 of a `YYYYMMDD` day.
        static func month(_ day: String) -> Int {
            (Int(day.prefix(4))! - 1970) * 12 + Int(day.dropFirst(4).prefix(2))! - 1
        }

        /// `YYYY-MM-DDT00:00:00.000Z`, as the export writes the day's first moment.
        static func timestamp(_ day: String) -> String {
            "\(day.prefix(4))-\(day.dropFirst(4).prefix(2))-\(day.suffix(2))T00:00:00.000Z"
        }
    }

    var customers: [String: Customer] = [:]

    /// Reads `file` of the fixtures (`customer date cds dollars` lines after a header).
    init(_ file: String = "CDNOW_master.txt") throws {
        let text = try String(contentsOf: ScoringHarness.fixtures.appendingPathComponent(file), encoding: .utf8)
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard fields.count == 4, let amount = Decimal(string: fields[3]) else { continue }
            var customer = customers[fields[0], default: Customer()]
            customer.orders += 1
            customer.total += amount
            customer.days.insert(fields[1])
            customer.first = min(customer.first, fields[1])
            customer.last = max(customer.last, fields[1])
            customers[fields[0]] = customer
        }
    }

    /// Customers with two or more purchase days.
    var repeatCustomers: Int { customers.values.filter { $0.days.count >= 2 }.count }

    /// The share of the total held by the ⌈20%⌉ customers of highest total, and the Gini coefficient of totals.
    var concentration: (top20Share: Double, gini: Double) {
        let values = customers.values.map { NSDecimalNumber(decimal: $0.total).doubleValue }.sorted()
        let total = values.reduce(0, +)
        let top = Int((Double(values.count) * 0.2).rounded(.up))
        let share = values.suffix(top).reduce(0, +) / total
        // Gini as the mean absolute difference over twice the mean, by the sorted-sum identity
        // Σ_i Σ_j |x_i − x_j| = 2 Σ_i (2i − n − 1) x_(i), i from 1.
        let n = Double(values.count)
        var differences = 0.0
        for (index, value) in values.enumerated() { differences += 2 * (2 * Double(index + 1) - n - 1) * value }
        return (share, differences / (2 * n * n * (total / n)))
    }

    /// Cohorts by first-purchase month: month label → (customers, active per month offset up to `lastMonth`).
    func cohorts(through lastDay: String) -> [String: (customers: Int, active: [Int])] {
        let last = Customer.month(lastDay)
        var result: [String: (customers: Int, active: [Int])] = [:]
        for customer in customers.values {
            let first = Customer.month(customer.first)
            let label = "\(customer.first.prefix(4))-\(customer.first.dropFirst(4).prefix(2))"
            var entry = result[label] ?? (0, [Int](repeating: 0, count: last - first + 1))
            entry.customers += 1
            for month in Set(customer.days.map(Customer.month)) { entry.active[month - first] += 1 }
            result[label] = entry
        }
        return result
    }
}
