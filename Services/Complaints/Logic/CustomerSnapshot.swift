import Foundation

/// A customer's value level as kept by `crm-scoring`: gold is the top 20% of value.
///
/// `unknown` is a customer the system has never seen; their complaint is still routed.
public enum CustomerTier: String, CaseIterable, Codable, CodingKeyRepresentable, Hashable, Sendable {
    /// High value: the top 20% of customers by value.
    case gold
    /// Middle value.
    case silver
    /// Low value.
    case bronze
    /// Never seen: no orders scored yet.
    case unknown
}

/// A customer's lifecycle stage as kept by `crm-scoring`.
public enum LifecycleStage: String, CaseIterable, Codable, Hashable, Sendable {
    /// Known but not yet buying.
    case potential
    /// First purchases.
    case development
    /// Buying more and more often.
    case growth
    /// Steady, at full value.
    case maturity
    /// Buying less: at risk.
    case decline
    /// Gone quiet: probably lost.
    case termination
    /// Back after a decline or termination.
    case recovery
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
