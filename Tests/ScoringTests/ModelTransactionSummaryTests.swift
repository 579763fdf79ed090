import Scoring
import Testing

@Suite("TransactionSummary")
struct ModelTransactionSummaryTests {
    typealias Purchase = TransactionSummary.Purchase

    @Test("all purchases of a day are one transaction, the first is not a repeat")
    func sameDayPurchasesMerge() throws {
        let purchases = [
            Purchase(day: 100, amount: 10), Purchase(day: 100, amount: 5),  // first transaction: no repeat
            Purchase(day: 107, amount: 20), Purchase(day: 107, amount: 4),  // one repeat of 24
            Purchase(day: 121, amount: 12),
        ]
        let summary = try #require(TransactionSummary(purchases: purchases, asOfDay: 135, unit: .week))
        #expect(summary == TransactionSummary(frequency: 2, recency: 3, age: 5, monetaryValue: 18))
    }

    @Test("order does not matter, purchases after the as-of day are ignored")
    func unsortedAndLatePurchases() throws {
        let purchases = [
            Purchase(day: 121, amount: 12), Purchase(day: 200, amount: 99), Purchase(day: 100, amount: 10),
            Purchase(day: 107, amount: 4), Purchase(day: 100, amount: 5), Purchase(day: 107, amount: 20),
        ]
        let summary = try #require(TransactionSummary(purchases: purchases, asOfDay: 135, unit: .week))
        #expect(summary == TransactionSummary(frequency: 2, recency: 3, age: 5, monetaryValue: 18))
    }

    @Test("a single purchase, units, and nothing before the as-of day")
    func edges() throws {
        let one = try #require(TransactionSummary(purchases: [Purchase(day: 10, amount: 7)], asOfDay: 40, unit: .day))
        #expect(one == TransactionSummary(frequency: 0, recency: 0, age: 30, monetaryValue: 0))
        #expect(TransactionSummary(purchases: [Purchase(day: 41, amount: 7)], asOfDay: 40) == nil)
        #expect(TransactionSummary(purchases: [Purchase](), asOfDay: 40) == nil)
        let monthly = try #require(
            TransactionSummary(purchases: [Purchase(day: 0, amount: 1)], asOfDay: 365, unit: .month)
        )
        #expect(abs(monthly.age - 365 / 30.4375) < 1e-12)
    }

    @Test("validity rules")
    func validity() {
        #expect(TransactionSummary(frequency: 2, recency: 3, age: 5).isValid)
        #expect(!TransactionSummary(frequency: 2, recency: 6, age: 5).isValid)
        #expect(!TransactionSummary(frequency: 0, recency: 1, age: 5).isValid)
        #expect(!TransactionSummary(frequency: -1, recency: 0, age: 5).isValid)
        #expect(!TransactionSummary(frequency: 1, recency: 1, age: .infinity).isValid)
        #expect(!TransactionSummary(frequency: 1, recency: 1, age: 2, monetaryValue: .nan).isValid)
    }

    @Test("CDNOW sample as of 1997-09-30 in weeks matches the published summary for all 2,357 customers")
    func cdnowSummaries() throws {
        let ours = try CDNOW.sampleSummaries()
        let published = try CDNOW.publishedSummaries()
        try #require(ours.count == 2_357)
        try #require(published.count == 2_357)
        // The published figures are rounded to 2 decimals: ours must round to them (half a cent, plus slack
        // for the binary representation of the rounded values).
        let halfUnit = 0.005 + 1e-9
        var mismatches: [Int] = []
        for (summary, row) in zip(ours, published)
        where summary.frequency != row.x || abs(summary.recency - row.tx) > halfUnit
            || abs(summary.age - row.T) > halfUnit
            || abs(summary.monetaryValue - row.zbar) > halfUnit
        {
            mismatches.append(row.id)
        }
        #expect(mismatches.isEmpty, "customers differing from the published summary: \(mismatches.prefix(20))")
        #expect(ours[0] == TransactionSummary(frequency: 2, recency: 213 / 7, age: 272 / 7, monetaryValue: 22.345))
        #expect(ours.filter { $0.frequency > 0 }.count == 946)
    }

    @Test("summarising the master file gives the same calibration summaries as the sample")
    func masterAgreesWithSample() throws {
        var masterPurchases: [Int: [Purchase]] = [:]
        for fields in try CDNOW.records("CDNOW_master.txt").dropFirst() {
            guard fields.count == 4, let id = Int(fields[0]), let date = Int(fields[1]), let amount = Double(fields[3])
            else { throw FixtureError(description: "bad master line \(fields)") }
            masterPurchases[id, default: []].append(Purchase(day: CDNOW.dayNumber(yyyymmdd: date), amount: amount))
        }
        #expect(masterPurchases.count == 23_570)
        var sampleIDs: [Int: Int] = [:]  // sample id → master id
        for fields in try CDNOW.records("CDNOW_sample.txt") {
            if let master = Int(fields[0]), let sample = Int(fields[1]) { sampleIDs[sample] = master }
        }
        let sample = try CDNOW.sampleSummaries()
        for (index, expected) in sample.enumerated() {
            let master = try #require(sampleIDs[index + 1].flatMap { masterPurchases[$0] })
            let summary = TransactionSummary(purchases: master, asOfDay: CDNOW.calibrationEnd)
            #expect(summary == expected, "sample customer \(index + 1)")
        }
    }
}
