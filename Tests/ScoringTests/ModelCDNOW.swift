import Foundation
import Scoring

/// The CDNOW fixtures of Tests/Fixtures/cdnow, parsed, and the figures derived from them that several tests share.
enum CDNOW {
    /// One row of `cdnow_customers_summary_with_transactions.csv`, lifetimes' summary rounded to 2 decimals.
    struct PublishedSummary {
        var id: Int
        var x: Int
        var tx: Double
        var T: Double
        var zbar: Double
    }

    static let directory = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "Fixtures/cdnow")

    /// End of the 39-week calibration period, 1997-09-30, as a day number.
    static let calibrationEnd = dayNumber(yyyymmdd: 19_970_930)

    /// Days from 1970-01-01 to a YYYYMMDD date in the proleptic Gregorian calendar (Hinnant's days_from_civil).
    static func dayNumber(yyyymmdd: Int) -> Int {
        let (day, month) = (yyyymmdd % 100, yyyymmdd / 100 % 100)
        let year = yyyymmdd / 10_000 - (month <= 2 ? 1 : 0)
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Whitespace-separated fields of each non-empty line (CRLF or LF endings).
    static func records(_ file: String) throws -> [[Substring]] {
        let text = try String(contentsOf: directory.appending(path: file), encoding: .utf8)
        return text.split(whereSeparator: \.isNewline).map { $0.split(whereSeparator: \.isWhitespace) }
            .filter { !$0.isEmpty }
    }

    /// Each sample customer's purchases, indexed by sample id − 1 (ids run 1...2357).
    static func samplePurchases() throws -> [[TransactionSummary.Purchase]] {
        var purchases: [[TransactionSummary.Purchase]] = []
        for fields in try records("CDNOW_sample.txt") {
            guard fields.count == 5, let id = Int(fields[1]), let date = Int(fields[2]), let amount = Double(fields[4])
            else { throw FixtureError(description: "bad sample line \(fields)") }
            while purchases.count < id { purchases.append([]) }
            purchases[id - 1].append(.init(day: dayNumber(yyyymmdd: date), amount: amount))
        }
        return purchases
    }

    /// The sample summarised as of 1997-09-30 in weeks, in sample-id order.
    static func sampleSummaries() throws -> [TransactionSummary] {
        try samplePurchases().enumerated().map { index, purchases in
            guard let summary = TransactionSummary(purchases: purchases, asOfDay: calibrationEnd, unit: .week)
            else { throw FixtureError(description: "customer \(index + 1) has no calibration purchase") }
            return summary
        }
    }

    /// The published summary, in id order.
    static func publishedSummaries() throws -> [PublishedSummary] {
        let text = try String(
            contentsOf: directory.appending(path: "cdnow_customers_summary_with_transactions.csv"),
            encoding: .utf8
        )
        return try text.split(whereSeparator: \.isNewline).dropFirst().map { line in
            let fields = line.split(separator: ",")
            guard fields.count == 5, let id = Int(fields[0]), let x = Int(fields[1]), let tx = Double(fields[2]),
                let T = Double(fields[3]), let zbar = Double(fields[4])
            else { throw FixtureError(description: "bad summary line \(line)") }
            return PublishedSummary(id: id, x: x, tx: tx, T: T, zbar: zbar)
        }
    }

    /// ``publishedSummaries()`` as the fits take them.
    static func publishedTransactionSummaries() throws -> [TransactionSummary] {
        try publishedSummaries().map {
            TransactionSummary(frequency: $0.x, recency: $0.tx, age: $0.T, monetaryValue: $0.zbar)
        }
    }

    /// BG/NBD fitted to ``sampleSummaries()``, computed once for the tests that share it.
    static let fittedBGNBD = Result { try BGNBD.fit(sampleSummaries()) }

    /// MBG/NBD fitted to ``sampleSummaries()``, computed once for the tests that share it.
    static let fittedMBGNBD = Result { try MBGNBD.fit(sampleSummaries()) }

    /// Pareto/NBD fitted to ``sampleSummaries()``, computed once for the tests that share it.
    static let fittedParetoNBD = Result { try ParetoNBD.fit(sampleSummaries()) }

    /// lifetimes 0.11.3's BG/NBD estimates on the published summary, to full precision.
    static let lifetimesBGNBD = BGNBD(
        r: 0.242592928279822,
        alpha: 4.413532265271825,
        a: 0.7928859664406758,
        b: 2.4257523826258134
    )

    /// lifetimes 0.11.3's Gamma-Gamma estimates on the published summary's 946 repeat buyers.
    static let lifetimesGammaGamma = GammaGamma(p: 6.248802496075072, q: 3.744588460923138, v: 15.44774806492988)
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
}
