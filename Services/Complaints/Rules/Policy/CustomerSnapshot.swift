import CRMContract
import Foundation

/// A customer's value tier as the complaint rules name it: scoring's ``ValueTier``, or `unknown` for a customer the
/// system has never seen (their complaint is still routed, and the rules' tables have a column for them).
public enum CustomerTier: String, CaseIterable, Codable, CodingKeyRepresentable, Hashable, Sendable {
    /// High value: the top 20% of customers by value.
    case gold
    /// Middle value.
    case silver
    /// Low value.
    case bronze
    /// Never seen: no orders scored yet.
    case unknown

    /// The tier of a customer scored with `tier`, `unknown` for one never scored.
    public init(_ tier: ValueTier?) {
        switch tier {
        case .gold: self = .gold
        case .silver: self = .silver
        case .bronze: self = .bronze
        case nil: self = .unknown
        }
    }

    /// The scored tier, nil for `unknown`.
    public var valueTier: ValueTier? { ValueTier(rawValue: rawValue) }
}

/// What the system knows about the complaining customer when the complaint arrives.
///
/// Everything is optional or zero by default because a customer never seen is routed too,
/// with what is known (`CustomerSnapshot.unknown`).
public struct CustomerSnapshot: Hashable, Sendable {
    /// Value level; `unknown` for a customer never seen.
    public var tier: CustomerTier
    /// Lifecycle stage, when scored.
    public var lifecycleStage: LifecycleStage?
    /// Lifetime value in the customer's currency, when scored.
    public var clv: Decimal?
    /// Orders counted so far.
    public var ordersCount: Int
    /// Other complaints of this customer still open, not counting the one being decided.
    public var openComplaints: Int
    /// Other complaints received within `classification.repeat.recent_window_days`, any status.
    public var recentComplaints: Int
    /// The customer's region (from `order.v1` `customer.region`), when known.
    public var region: String?

    /// Creates a snapshot; every field but the tier defaults to "not known".
    public init(
        tier: CustomerTier,
        lifecycleStage: LifecycleStage? = nil,
        clv: Decimal? = nil,
        ordersCount: Int = 0,
        openComplaints: Int = 0,
        recentComplaints: Int = 0,
        region: String? = nil
    ) {
        self.tier = tier
        self.lifecycleStage = lifecycleStage
        self.clv = clv
        self.ordersCount = ordersCount
        self.openComplaints = openComplaints
        self.recentComplaints = recentComplaints
        self.region = region
    }

    /// A customer the system has never seen.
    public static let unknown = CustomerSnapshot(tier: .unknown)
}
