import CRMSupport
import Foundation

/// One customer's raw recency, frequency and monetary measures, the inputs to RFM scoring.
///
/// Only customers with at least one purchase have RFM values; a customer who never bought is
/// `potential` and has no `rfm` object.
public struct RFMValues: Hashable, Sendable, Codable {
    /// Whole days from the last purchase to the as-of time (the `recency_days` field); never negative.
    public var recencyDays: Int
    /// Number of purchases, at least 1.
    public var frequency: Int
    /// Net value of all purchases (margin where every order carries cost, revenue otherwise), currency units.
    public var monetaryTotal: Double

    /// Average net value per purchase, currency units.
    public var monetaryAverage: Double { monetaryTotal / Double(max(frequency, 1)) }

    /// Creates values from already-derived measures; `frequency` below 1 is raised to 1, negative recency to 0.
    public init(recencyDays: Int, frequency: Int, monetaryTotal: Double) {
        self.recencyDays = max(recencyDays, 0)
        self.frequency = max(frequency, 1)
        self.monetaryTotal = monetaryTotal
    }

    /// Derives the measures from a customer's purchases, or nil when there are none (a potential customer).
    ///
    /// Recency counts whole elapsed days, so customers who last bought on the same day at different
    /// hours tie, which is what an operator reading `recency_days` expects. A last purchase after
    /// `asOf` (a replay with an early as-of time) counts as recency 0.
    public init?(purchaseCount: Int, netValue: Double, lastPurchaseAt: Date?, asOf: Date) {
        guard purchaseCount > 0, let lastPurchaseAt else { return nil }
        let days = (asOf.timeIntervalSince(lastPurchaseAt) / 86_400).rounded(.down)
        self.init(recencyDays: Int(max(0, days)), frequency: purchaseCount, monetaryTotal: netValue)
    }

    /// The monetary measure RFM scores, by the configured basis.
    public func monetary(_ basis: RFMMonetaryBasis) -> Double {
        switch basis {
        case .total: return monetaryTotal
        case .average: return monetaryAverage
        }
    }
}

/// Which monetary figure the M score ranks. Setting `monetaryBasis`, default `total`.
public enum RFMMonetaryBasis: String, Codable, Hashable, Sendable {
    /// Total net value: the classic RFM choice, and the figure reported as `monetary_total`.
    case total
    /// Average net value per purchase: decorrelates M from F, as the Gamma-Gamma model assumes.
    case average
}

/// A customer's RFM scores, each 1 (worst fifth of the base) to 5 (best fifth).
public struct RFMScore: Hashable, Sendable, Codable {
    /// Recency score: fewer days since the last purchase scores higher.
    public var r: Int
    /// Frequency score: more purchases scores higher.
    public var f: Int
    /// Monetary score: more net value scores higher.
    public var m: Int

    /// Creates a score triple; callers outside this module build one only to restore a stored score.
    public init(r: Int, f: Int, m: Int) {
        self.r = r
        self.f = f
        self.m = m
    }

    /// The conventional three-digit segment code, such as `"545"`.
    public var code: String { "\(r)\(f)\(m)" }
}
