import CRMContract
import CRMSupport
import Foundation

@testable import Scoring

/// Shared clock and builders for the rules tests: one fixed as-of time and dates counted back from it.
enum RulesFixtures {
    /// The fixed scoring time of every test, 2026-11-20T00:00:00Z.
    static let asOf = Date(timeIntervalSince1970: 1_795_132_800)

    /// A date `days` days before ``asOf``.
    static func daysAgo(_ days: Double) -> Date {
        asOf.addingTimeInterval(-days * 86_400)
    }

    /// A steady repeat buyer: `purchases` purchases every `interval` days, the last `silence` days ago,
    /// spending `spendPerPurchase` each, with windows derived the way the scoring service derives them.
    static func repeatBuyer(
        purchases: Int = 12,
        interval: Double = 30,
        silence: Double = 10,
        spendPerPurchase: Double = 100,
        recentSpendFactor: Double = 1,
        recentPurchaseFactor: Double = 1,
        pAlive: Double? = 0.9,
        tier: ValueTier? = .gold,
        previous: PreviousScoring? = nil,
        settings: LifecycleSettings = LifecycleSettings()
    ) -> CustomerFacts {
        let last = daysAgo(silence)
        let first = last.addingTimeInterval(-Double(purchases - 1) * interval * 86_400)
        let tenure = asOf.timeIntervalSince(first) / 86_400
        let recentDays = min(settings.recentWindowDays(expectedIntervalDays: interval), tenure)
        let earlierDays = tenure - recentDays
        // Spread purchases evenly, then scale the recent window to model a trend.
        let earlierPurchases = Int((earlierDays / tenure * Double(purchases)).rounded())
        let recentPurchases = Int((Double(purchases - earlierPurchases) * recentPurchaseFactor).rounded())
        return CustomerFacts(
            asOf: asOf,
            orderCount: earlierPurchases + recentPurchases,
            firstOrderAt: first,
            lastOrderAt: last,
            netRevenue: Double(purchases) * spendPerPurchase,
            recent: ActivityWindow(
                days: recentDays,
                purchases: recentPurchases,
                spend: Double(recentPurchases) * spendPerPurchase * recentSpendFactor
            ),
            earlier: ActivityWindow(
                days: earlierDays,
                purchases: earlierPurchases,
                spend: Double(earlierPurchases) * spendPerPurchase
            ),
            pAlive: pAlive,
            expectedIntervalDays: interval,
            valueTier: tier,
            previous: previous
        )
    }

    /// A customer with a single purchase `silence` days ago.
    static func oneTimeBuyer(silence: Double, spend: Double = 80, pAlive: Double? = 1) -> CustomerFacts {
        CustomerFacts(
            asOf: asOf,
            orderCount: 1,
            firstOrderAt: daysAgo(silence),
            lastOrderAt: daysAgo(silence),
            netRevenue: spend,
            recent: ActivityWindow(days: min(silence, 180), purchases: silence <= 180 ? 1 : 0, spend: spend),
            pAlive: pAlive
        )
    }
}
