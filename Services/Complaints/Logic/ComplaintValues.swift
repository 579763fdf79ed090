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

/// How serious a complaint is, as published in the routed complaint's `severity` field.
///
/// Ordered from `low` to `critical`, so `>=` reads as "at least as serious as".
public enum ComplaintSeverity: String, CaseIterable, Codable, CodingKeyRepresentable, Comparable, Hashable, Sendable {
    /// An annoyance, e.g. an unfriendly agent.
    case low
    /// Something failed, e.g. a lost parcel or a wrong charge.
    case medium
    /// Serious exposure, e.g. a legal threat, or a medium complaint repeated.
    case high
    /// Immediate harm, e.g. safety or fraud: nothing waits.
    case critical

    /// 0 for `low` up to 3 for `critical`.
    public var rank: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .high: 2
        case .critical: 3
        }
    }

    /// The next level up, or `critical` when already there.
    public var raised: ComplaintSeverity {
        Self.allCases[min(rank + 1, Self.allCases.count - 1)]
    }

    /// Orders by seriousness, not by name.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.rank < rhs.rank
    }
}

/// How urgently a desk must act, `p1` (first) to `p4` (last), as published in `priority`.
///
/// `Comparable` follows urgency: `p1 < p2` reads "p1 is handled before p2", so "priority at most p2"
/// means `priority <= .p2`, that is p1 or p2.
public enum ComplaintPriority: String, CaseIterable, Codable, CodingKeyRepresentable, Comparable, Hashable, Sendable {
    /// Handled first.
    case p1
    /// Handled second.
    case p2
    /// Handled third.
    case p3
    /// Handled last.
    case p4

    /// 1 for `p1` up to 4 for `p4`.
    public var number: Int {
        switch self {
        case .p1: 1
        case .p2: 2
        case .p3: 3
        case .p4: 4
        }
    }

    /// Orders by urgency: `p1` sorts first.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.number < rhs.number
    }
}
