import Scoring
import Testing

@Suite("Lifetime value")
struct ModelLifetimeValueTests {
    /// lifetimes' month for `freq="W"`.
    static let lifetimesMonth = TimeUnit(days: 4.345 * 7)

    @Test(
        "matches lifetimes' customer_lifetime_value (12 months, 1 % a month, freq W)",
        arguments: [
            (2, 30.43, 38.86, 22.35, 36.278_495_763_625_72),
            (1, 1.71, 38.86, 11.77, 4.637_466_328_569_656),
            (0, 0, 38.86, 0, 8.344_093_121_809_827),
            (7, 29.43, 38.86, 73.74, 283.523_592_590_387_9),
            (1, 4.86, 38.86, 9.99, 6.349_622_110_038_317),
        ]
    )
    func matchesLifetimes(x: Int, tx: Double, T: Double, monetary: Double, expected: Double) {
        let valuation = LifetimeValue(
            transactions: CDNOW.lifetimesBGNBD,
            spend: CDNOW.lifetimesGammaGamma,
            period: Self.lifetimesMonth
        )
        let value = valuation.value(x: x, tx: tx, T: T, monetary: monetary)
        #expect(abs(value / expected - 1) < 1e-10, "got \(value), expected \(expected)")
    }

    @Test("the whole CDNOW sample sums to lifetimes' total")
    func sampleTotal() throws {
        let valuation = LifetimeValue(
            transactions: CDNOW.lifetimesBGNBD,
            spend: CDNOW.lifetimesGammaGamma,
            period: Self.lifetimesMonth
        )
        let total = try CDNOW.publishedSummaries().reduce(0) {
            $0 + valuation.value(x: $1.x, tx: $1.tx, T: $1.T, monetary: $1.zbar)
        }
        #expect(abs(total / 71_509.899_319_365_3 - 1) < 1e-10)
    }

    @Test("defaults, no discounting, and an empty horizon")
    func defaultsAndLimits() {
        let customer = TransactionSummary(frequency: 2, recency: 30.43, age: 38.86, monetaryValue: 22.35)
        let standard = LifetimeValue(transactions: CDNOW.lifetimesBGNBD, spend: CDNOW.lifetimesGammaGamma)
        #expect(standard.periods == 12)
        #expect(standard.discountRate == 0.01)
        #expect(abs(standard.periodLength - 30.4375 / 7) < 1e-15)

        // Undiscounted, the value is the expected purchases over the whole horizon times the expected spend.
        var undiscounted = standard
        undiscounted.discountRate = 0
        let horizon = 12 * standard.periodLength
        let expected =
            CDNOW.lifetimesBGNBD.conditionalExpectedPurchases(t: horizon, for: customer)
            * CDNOW.lifetimesGammaGamma.conditionalExpectedAverageSpend(customer)
        #expect(abs(undiscounted.value(for: customer) / expected - 1) < 1e-12)
        #expect(standard.value(for: customer) < undiscounted.value(for: customer))

        var empty = standard
        empty.periods = 0
        #expect(empty.value(for: customer) == 0)
    }

    @Test("batch scoring equals scoring one customer at a time")
    func batchMatchesSingle() throws {
        let customers = try CDNOW.sampleSummaries()
        let model = CDNOW.lifetimesBGNBD
        let valuation = LifetimeValue(transactions: model, spend: CDNOW.lifetimesGammaGamma)
        #expect(valuation.values(for: customers) == customers.map { valuation.value(for: $0) })
        #expect(
            model.conditionalExpectedPurchases(t: 39, for: customers)
                == customers.map { model.conditionalExpectedPurchases(t: 39, for: $0) }
        )
        #expect(model.conditionalExpectedPurchases(t: 0, for: customers).allSatisfy { $0 == 0 })
    }
}
