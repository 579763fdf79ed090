import CRMContract
import CRMSupport

/// Priority from severity and customer value together: the `priority` section of the rules.
///
/// The default table (`PriorityPolicy.standard`, also in `deploy/complaint-rules.json`):
///
/// | severity \ tier | gold | silver | bronze | unknown |
/// |-----------------|------|--------|--------|---------|
/// | critical        | p1   | p1     | p1     | p1      |
/// | high            | p1   | p2     | p2     | p2      |
/// | medium          | p2   | p2     | p3     | p3      |
/// | low             | p3   | p3     | p4     | p4      |
///
/// Critical is always p1: safety and fraud do not wait for a customer's value. Below that a gold
/// customer is one step ahead of bronze, so a gold customer's medium complaint (p2) outranks a bronze
/// customer's (p3); silver sits with gold for medium and low and with bronze for high. A customer never
/// seen (`unknown`) is treated like bronze: no value is known, and a first complaint should not be ignored.
///
/// Operators may change the table; it must stay complete and monotone (a more severe complaint is never
/// less urgent, and a more valuable tier is never less urgent than a less valuable one).
public struct PriorityPolicy: Codable, Hashable, Sendable {
    /// Priority per tier and severity. In JSON: `{"gold": {"critical": "p1", ...}, ...}`.
    public var table: [CustomerTier: [ComplaintSeverity: ComplaintPriority]]

    /// Creates a policy from a complete table.
    public init(table: [CustomerTier: [ComplaintSeverity: ComplaintPriority]]) {
        self.table = table
    }

    /// Decodes the bare table, skipping comment keys (`_comment`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        var table: [CustomerTier: [ComplaintSeverity: ComplaintPriority]] = [:]
        for key in container.allKeys where !key.stringValue.hasPrefix("_") {
            guard let tier = CustomerTier(rawValue: key.stringValue) else {
                throw DecodingError.dataCorruptedError(
                    forKey: key,
                    in: container,
                    debugDescription: "unknown tier \"\(key.stringValue)\""
                )
            }
            table[tier] = try container.decode([ComplaintSeverity: ComplaintPriority].self, forKey: key)
        }
        self.table = table
    }

    /// Encodes the bare table.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(table)
    }

    /// The documented default table.
    public static let standard = PriorityPolicy(table: [
        .gold: [.critical: .p1, .high: .p1, .medium: .p2, .low: .p3],
        .silver: [.critical: .p1, .high: .p2, .medium: .p2, .low: .p3],
        .bronze: [.critical: .p1, .high: .p2, .medium: .p3, .low: .p4],
        .unknown: [.critical: .p1, .high: .p2, .medium: .p3, .low: .p4],
    ])

    /// The priority of a complaint of `severity` from a customer of `tier`.
    ///
    /// A validated table has every cell; a missing one (an unvalidated policy) falls back to the
    /// standard table rather than guessing.
    public func priority(severity: ComplaintSeverity, tier: CustomerTier) -> ComplaintPriority {
        table[tier]?[severity] ?? Self.standard.table[tier]?[severity] ?? .p1
    }

    /// Records missing cells and orderings that would make a more serious or more valuable case wait longer.
    func check(_ issues: inout ConfigurationIssues) {
        for tier in CustomerTier.allCases {
            for severity in ComplaintSeverity.allCases where table[tier]?[severity] == nil {
                issues.add(
                    .invalidValue,
                    at: "priority.\(tier.rawValue)",
                    "no priority for severity \(severity.rawValue)"
                )
            }
        }
        let cell = { (tier: CustomerTier, severity: ComplaintSeverity) in self.table[tier]?[severity] }
        for tier in CustomerTier.allCases {
            for (lower, higher) in zip(ComplaintSeverity.allCases, ComplaintSeverity.allCases.dropFirst()) {
                if let low = cell(tier, lower), let high = cell(tier, higher), high > low {
                    let detail = "\(higher.rawValue) is \(high.rawValue), less urgent than \(lower.rawValue)"
                    issues.add(.invalidValue, at: "priority.\(tier.rawValue)", detail)
                }
            }
        }
        let valueOrder: [CustomerTier] = [.gold, .silver, .bronze]
        for severity in ComplaintSeverity.allCases {
            for (richer, poorer) in zip(valueOrder, valueOrder.dropFirst()) {
                if let rich = cell(richer, severity), let poor = cell(poorer, severity), rich > poor {
                    let detail = "\(severity.rawValue) is \(rich.rawValue), less urgent than for \(poorer.rawValue)"
                    issues.add(.invalidValue, at: "priority.\(richer.rawValue)", detail)
                }
            }
        }
    }
}
