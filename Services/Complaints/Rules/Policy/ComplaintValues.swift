import CRMContract

/// A complaint category, as published in the routed complaint's `category` field; JSON is the bare string.
///
/// Categories come from configuration (`classification.categories[].name`), so this is an open
/// set of strings rather than an enum: operators add one without a rebuild. The six defaults are
/// named here because code and tests refer to them.
public struct ComplaintCategory: RawRepresentable, Codable, Hashable, Comparable, Sendable,
    ExpressibleByStringLiteral, CustomStringConvertible
{
    /// The category name, `[a-z0-9_-]+`, e.g. `delivery`.
    public let rawValue: String

    /// Wraps a category name as configured.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// Wraps a literal category name.
    public init(stringLiteral value: String) {
        self.rawValue = value
    }

    /// The category name.
    public var description: String { rawValue }

    /// Orders by name, for stable output.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    /// Delivery and logistics: late, lost or damaged in transit.
    public static let delivery: ComplaintCategory = "delivery"
    /// Billing and refunds: wrong or duplicate charges, refunds not received.
    public static let billing: ComplaintCategory = "billing"
    /// Product quality: defective, broken or not as described.
    public static let productQuality: ComplaintCategory = "product_quality"
    /// Service attitude: rude or unhelpful staff.
    public static let serviceAttitude: ComplaintCategory = "service_attitude"
    /// Account: login, locked or hacked accounts, personal data.
    public static let account: ComplaintCategory = "account"
    /// Anything no rule recognises with enough confidence; always exists, even if not configured.
    public static let other: ComplaintCategory = "other"
}

extension ComplaintSeverity {
    /// The next level up, or `critical` when already there: a repeated complaint is one step graver.
    public var raised: ComplaintSeverity {
        Self.allCases[min(rank + 1, Self.allCases.count - 1)]
    }
}
