/// A length of model time, in days. The summaries, parameters and horizons of one model share one unit.
public struct TimeUnit: Sendable, Hashable {
    /// Length of the unit in days; positive and finite.
    public let days: Double

    /// A unit `days` days long; `days` must be positive and finite (a programming error otherwise).
    public init(days: Double) {
        precondition(days > 0 && days.isFinite, "a time unit is a positive, finite number of days")
        self.days = days
    }

    /// One calendar day.
    public static let day = TimeUnit(days: 1)
    /// Seven days: the unit of the CDNOW figures and the default everywhere in the model.
    public static let week = TimeUnit(days: 7)
    /// The mean Gregorian month, 365.25 / 12 = 30.4375 days (lifetimes' 4.345 weeks is 30.415 days).
    public static let month = TimeUnit(days: 30.4375)
}

/// One customer's purchase history reduced to what the BG/NBD and Gamma-Gamma models need.
///
/// Times are in one ``TimeUnit`` (weeks unless stated) and counted from the customer's first purchase.
public struct TransactionSummary: Sendable, Hashable, Codable {
    /// Repeat transactions x: transactions after the first one; all purchases of a calendar day are one.
    public var frequency: Int
    /// Time t_x from the first to the last transaction; 0 when `frequency` is 0.
    public var recency: Double
    /// Time T from the first transaction to the as-of date: the customer's age.
    public var age: Double
    /// Mean value of the repeat transactions in currency units; 0 when `frequency` is 0.
    public var monetaryValue: Double

    /// A summary from its four figures; see ``isValid`` for what the models accept.
    public init(frequency: Int, recency: Double, age: Double, monetaryValue: Double = 0) {
        self.frequency = frequency
        self.recency = recency
        self.age = age
        self.monetaryValue = monetaryValue
    }

    /// Whether the models accept it: x ≥ 0, finite 0 ≤ t_x ≤ T, t_x = 0 when x = 0, finite monetary value.
    public var isValid: Bool {
        frequency >= 0 && recency >= 0 && recency <= age && age.isFinite
            && (frequency > 0 || recency == 0) && monetaryValue.isFinite
    }
}

// MARK: - Building from purchases

extension TransactionSummary {
    /// One purchase handed to the summary builder.
    public struct Purchase: Sendable, Hashable {
        /// Calendar day number in any consistent count (e.g. days since 1970-01-01); only differences matter.
        public var day: Int
        /// Amount in currency units; zero-value purchases still count as transactions.
        public var amount: Double

        /// A purchase of `amount` on day number `day`.
        public init(day: Int, amount: Double) {
            self.day = day
            self.amount = amount
        }
    }

    /// Summarises one customer's purchases, in any order, as of `asOfDay` (inclusive) in `unit` (default
    /// weeks); purchases after `asOfDay` are ignored, and the result is nil when none is left.
    ///
    /// All purchases of one day make one transaction with their amounts summed; the first transaction is not
    /// a repeat and its amount does not enter ``monetaryValue``. Times are whole days divided by `unit.days`.
    public init?(purchases: some Collection<Purchase>, asOfDay: Int, unit: TimeUnit = .week) {
        // Histories usually arrive sorted by day (ORDER BY in SQL): only an unsorted one pays for a sorted copy.
        var isSorted = true
        var previousDay = Int.min
        for purchase in purchases where purchase.day <= asOfDay {
            guard purchase.day >= previousDay else {
                isSorted = false
                break
            }
            previousDay = purchase.day
        }
        let tally =
            isSorted
            ? Self.tally(sortedPurchases: purchases, asOfDay: asOfDay)
            : Self.tally(sortedPurchases: purchases.sorted { $0.day < $1.day }, asOfDay: asOfDay)
        guard let tally else { return nil }

        self.frequency = tally.repeatTransactions
        self.recency = Double(tally.lastDay - tally.firstDay) / unit.days
        self.age = Double(asOfDay - tally.firstDay) / unit.days
        self.monetaryValue = tally.repeatTransactions > 0 ? tally.repeatAmount / Double(tally.repeatTransactions) : 0
    }

    private struct Tally {
        var firstDay: Int
        var lastDay: Int
        var repeatTransactions = 0
        var repeatAmount = 0.0
    }

    /// One pass over purchases sorted by day; nil when none is on or before `asOfDay`.
    private static func tally(sortedPurchases: some Sequence<Purchase>, asOfDay: Int) -> Tally? {
        var remaining = sortedPurchases.lazy.filter { $0.day <= asOfDay }.makeIterator()
        guard let first = remaining.next() else { return nil }
        var tally = Tally(firstDay: first.day, lastDay: first.day)
        while let purchase = remaining.next() {
            // Every purchase of the first day belongs to the first transaction, which is not a repeat.
            guard purchase.day != tally.firstDay else { continue }
            if purchase.day != tally.lastDay {
                tally.repeatTransactions += 1
                tally.lastDay = purchase.day
            }
            tally.repeatAmount += purchase.amount
        }
        return tally
    }
}
