import CRMContract
import Foundation

/// Which scored customers a list or an export takes: the filters of `crm customers` and `GET /customers`, all
/// combined with AND. A filter left nil takes everyone.
///
/// Both front ends name the same filters, in their own spelling: `--min-orders` on the command line is
/// `min_orders` in a query string. ``CustomerSelectionError`` carries the query-string name; the command line
/// turns it into its flag.
public struct CustomerFilter: Sendable, Hashable {
    public var tier: ValueTier?
    public var stage: LifecycleStage?
    /// A nine-grid cell id such as `high-low`.
    public var grid: String?
    public var segment: RFMSegment?
    public var region: String?
    /// `final` or `intermediate`.
    public var type: String?
    public var minOrders: Int?
    public var maxOrders: Int?
    /// Bounds on the predicted lifetime value (`clv.predicted`), decimal text as given.
    public var minCLV: String?
    public var maxCLV: String?
    /// Bounds on the historical value (`clv.historical`), decimal text as given.
    public var minHistorical: String?
    public var maxHistorical: String?
    public var minPAlive: Double?
    public var maxPAlive: Double?
    /// The last order strictly before / strictly after this instant.
    public var lastOrderBefore: Timestamp?
    public var lastOrderAfter: Timestamp?
    public var flag: CustomerFlag?

    /// No filter: every scored customer.
    public init() {}

    /// The filters' names as query parameters, in the order the documentation lists them.
    public static let parameterNames = [
        "tier", "stage", "grid", "segment", "region", "type", "min_orders", "max_orders", "min_clv", "max_clv",
        "min_historical", "max_historical", "min_p_alive", "max_p_alive", "last_order_before", "last_order_after",
        "flag",
    ]

    /// The customer types of `customer.type`.
    public static let customerTypes = ["final", "intermediate"]

    /// The nine-grid cells, `<value>-<second>`.
    public static let gridCells = GridLevel.allCases.flatMap { value in
        GridLevel.allCases.map { "\(value.rawValue)-\($0.rawValue)" }
    }

    /// Sets the filter named `name` (a query-parameter name) from its text; refuses an unknown name or a value
    /// that does not parse, naming the parameter.
    public mutating func set(_ name: String, to text: String) throws(CustomerSelectionError) {
        func fail(_ problem: String) -> CustomerSelectionError { CustomerSelectionError(parameter: name, problem) }
        func word<W: RawRepresentable & CaseIterable>(_: W.Type, _ what: String) throws(CustomerSelectionError) -> W
        where W.RawValue == String {
            guard let value = W(rawValue: text) else {
                throw fail("unknown \(what) '\(text)' (one of \(W.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return value
        }
        func count() throws(CustomerSelectionError) -> Int {
            guard let value = Int(text), value >= 0 else { throw fail("'\(text)' is not a whole number ≥ 0") }
            return value
        }
        func amount() throws(CustomerSelectionError) -> String {
            guard Self.isDecimal(text) else { throw fail("'\(text)' is not a decimal number such as 1500 or 99.50") }
            return text
        }
        func probability() throws(CustomerSelectionError) -> Double {
            guard let value = Double(text), value.isFinite, (0...1).contains(value), Self.isDecimal(text) else {
                throw fail("'\(text)' is not a probability between 0 and 1")
            }
            return value
        }
        func time() throws(CustomerSelectionError) -> Timestamp {
            do {
                return try Timestamp(rfc3339: text)
            } catch {
                throw fail("'\(text)' is not an RFC 3339 time with an offset, such as 2026-01-31T00:00:00Z")
            }
        }
        switch name {
        case "tier": tier = try word(ValueTier.self, "tier")
        case "stage": stage = try word(LifecycleStage.self, "lifecycle stage")
        case "segment": segment = try word(RFMSegment.self, "segment")
        case "flag": flag = try word(CustomerFlag.self, "flag")
        case "grid":
            guard Self.gridCells.contains(text) else {
                throw fail("unknown nine-grid cell '\(text)' (value-second, e.g. high-low)")
            }
            grid = text
        case "type":
            guard Self.customerTypes.contains(text) else { throw fail("unknown type '\(text)' (final, intermediate)") }
            type = text
        case "region":
            guard !text.isEmpty else { throw fail("empty region") }
            region = text
        case "min_orders": minOrders = try count()
        case "max_orders": maxOrders = try count()
        case "min_clv": minCLV = try amount()
        case "max_clv": maxCLV = try amount()
        case "min_historical": minHistorical = try amount()
        case "max_historical": maxHistorical = try amount()
        case "min_p_alive": minPAlive = try probability()
        case "max_p_alive": maxPAlive = try probability()
        case "last_order_before": lastOrderBefore = try time()
        case "last_order_after": lastOrderAfter = try time()
        default: throw CustomerSelectionError(parameter: name, "unknown filter")
        }
    }

    /// Refuses a range whose lower bound lies above its upper bound, naming the lower bound's parameter.
    public func validate() throws(CustomerSelectionError) {
        func check<T: Comparable>(
            _ low: T?,
            _ high: T?,
            _ lowName: String,
            _ highName: String
        )
            throws(CustomerSelectionError)
        {
            if let low, let high, low > high {
                throw CustomerSelectionError(parameter: lowName, "is above \(highName)")
            }
        }
        try check(minOrders, maxOrders, "min_orders", "max_orders")
        try check(minCLV.flatMap { Decimal(string: $0) }, maxCLV.flatMap { Decimal(string: $0) }, "min_clv", "max_clv")
        try check(
            minHistorical.flatMap { Decimal(string: $0) },
            maxHistorical.flatMap { Decimal(string: $0) },
            "min_historical",
            "max_historical"
        )
        try check(minPAlive, maxPAlive, "min_p_alive", "max_p_alive")
        // After T and before U: nothing can lie in between when U is not after T.
        if let after = lastOrderAfter, let before = lastOrderBefore, before <= after {
            throw CustomerSelectionError(parameter: "last_order_after", "is not before last_order_before")
        }
    }

    /// A plain decimal number: an optional minus, digits, optionally a point and more digits.
    static func isDecimal(_ text: String) -> Bool {
        var digits = text.utf8[...]
        if digits.first == UInt8(ascii: "-") { digits = digits.dropFirst() }
        let parts = digits.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else { return false }
        return parts.allSatisfy { $0.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } }
    }
}

/// The order of a list: one field of the customer object, ascending or descending; customers without a value for
/// it come last either way, and ties go by `customer_id`.
public struct CustomerSort: Sendable, Hashable {
    /// The fields a list can be sorted by, named by their path in the customer object.
    public enum Field: String, Sendable, Hashable, CaseIterable {
        case customerID = "customer_id"
        case ordersCount = "orders_count"
        case transactions
        case monetaryTotal = "monetary_total"
        case firstOrderAt = "first_order_at"
        case lastOrderAt = "last_order_at"
        case recencyDays = "recency_days"
        case rfmR = "rfm.r"
        case rfmF = "rfm.f"
        case rfmM = "rfm.m"
        case historical = "clv.historical"
        case simple = "clv.simple"
        case predicted = "clv.predicted"
        case pAlive = "p_alive"
        case expectedPurchases = "expected_purchases_90d"
    }

    public var field: Field
    public var descending: Bool

    /// By customer id, ascending: the default, and the cheapest (the primary key's order).
    public static let byCustomerID = CustomerSort(field: .customerID, descending: false)

    public init(field: Field, descending: Bool) {
        self.field = field
        self.descending = descending
    }

    /// Parses `FIELD`, `FIELD:asc` or `FIELD:desc`; `parameter` names the option in the error.
    public init(parsing text: String, parameter: String = "sort") throws(CustomerSelectionError) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let field = Field(rawValue: parts[0]) else {
            throw CustomerSelectionError(
                parameter: parameter,
                "cannot sort by '\(parts[0])' (one of \(Field.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        let direction = parts.count > 1 ? parts[1] : "asc"
        guard direction == "asc" || direction == "desc" else {
            throw CustomerSelectionError(parameter: parameter, "direction '\(direction)' is neither asc nor desc")
        }
        self.init(field: field, descending: direction == "desc")
    }

    /// `FIELD:asc` or `FIELD:desc`.
    public var description: String { "\(field.rawValue):\(descending ? "desc" : "asc")" }
}

/// A filter, sort, limit or cursor that cannot be used: which parameter and why, in one line.
public struct CustomerSelectionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The query-parameter name (`min_orders`, `after`).
    public var parameter: String
    public var problem: String

    public init(parameter: String, _ problem: String) {
        self.parameter = parameter
        self.problem = problem
    }

    public var description: String { "\(parameter): \(problem)" }
}
