import CRMContract
import Foundation

/// The whole base as of a full rescoring (`crm report`): computed by the rescoring from what it holds in memory,
/// stored in `base_reports`, read back as one row.
///
/// Keys as the interface names them. Counts of `customers`, `repeat_customers`, value and cohorts are over the
/// customers with purchases; `stages`, `tiers` and `transitions` over every scored customer. Money is a decimal
/// string with two fractional digits, in the base currency, on the same value basis as the scores (margin where
/// orders carry a cost).
public struct BaseReport: Sendable, Codable, Equatable {
    public var asOf: Timestamp
    /// The model of the rescoring.
    public var modelID: Int64?
    /// Customers with at least one purchase.
    public var customers: Int
    /// Every customer scored, those without purchases (stage `potential`) included.
    public var scored: Int
    /// Customers with two or more transactions (purchase days).
    public var repeatCustomers: Int
    /// `repeat_customers` ÷ `customers`; 0 without customers.
    public var repeatRate: Double
    public var value: Value
    /// Expected over the next 90 days; nil without a fitted purchase model.
    public var forecast90d: Forecast?
    /// One per month of first purchase, oldest first.
    public var cohorts: [CohortTally.Cohort]
    /// Customers per lifecycle stage, every stage named.
    public var stages: [String: Int]
    /// Customers per tier, every tier named.
    public var tiers: [String: Int]
    /// Per nine-grid cell (`high-low`), every cell named.
    public var grid: [String: GridCell]
    /// Moves since the previous full rescoring; nil for the first.
    public var transitions: Transitions?

    /// The value of the base and how it is shared.
    public struct Value: Sendable, Codable, Equatable {
        public var historicalTotal: String
        /// nil without a fitted spend model.
        public var predictedTotal: String?
        /// The share of historical value held by the top 20% of customers by historical value.
        public var top20Share: Double
        /// The Gini coefficient of historical value.
        public var gini: Double

        enum CodingKeys: String, CodingKey {
            case historicalTotal = "historical_total"
            case predictedTotal = "predicted_total"
            case top20Share = "top_20_share"
            case gini
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(historicalTotal, forKey: .historicalTotal)
            try container.encode(predictedTotal, forKey: .predictedTotal)
            try container.encode(top20Share, forKey: .top20Share)
            try container.encode(gini, forKey: .gini)
        }
    }

    /// The next 90 days as the purchase model that scored the customers expects them.
    public struct Forecast: Sendable, Codable, Equatable {
        /// Σ of every customer's `expected_purchases_90d`.
        public var transactions: Double
        /// Σ of expected purchases × the spend model's expected value per transaction; nil without a spend model.
        public var revenue: String?

        enum CodingKeys: String, CodingKey { case transactions, revenue }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(transactions, forKey: .transactions)
            try container.encode(revenue, forKey: .revenue)
        }
    }

    /// One nine-grid cell.
    public struct GridCell: Sendable, Codable, Equatable {
        public var customers: Int
        public var historicalTotal: String
        public var predictedTotal: String
        /// The cell's strategy (the one most of its customers carry, when axes differ).
        public var strategy: String

        enum CodingKeys: String, CodingKey {
            case customers
            case historicalTotal = "historical_total"
            case predictedTotal = "predicted_total"
            case strategy
        }
    }

    /// Tier and stage moves between the previous full rescoring and this one.
    public struct Transitions: Sendable, Codable, Equatable {
        /// The as-of time of the previous full rescoring.
        public var previousAsOf: Timestamp
        /// `{from: {to: n}}`; customers the previous full rescoring had not scored are counted from `new`.
        public var tiers: [String: [String: Int]]
        public var stages: [String: [String: Int]]
        /// Customers gold now who were not gold before (new ones included).
        public var goldEntered: Int
        /// Customers gold before who are not gold now.
        public var goldLeft: Int
        /// The most valuable of them (by predicted value, at most ``BaseReportBuilder/moversShown``): who, and
        /// their stage and its rule, which say why.
        public var goldEntrants: [Mover]
        public var goldLeavers: [Mover]

        enum CodingKeys: String, CodingKey {
            case previousAsOf = "previous_as_of"
            case tiers, stages
            case goldEntered = "gold_entered"
            case goldLeft = "gold_left"
            case goldEntrants = "gold_entrants"
            case goldLeavers = "gold_leavers"
        }
    }

    /// A customer who entered or left gold.
    public struct Mover: Sendable, Codable, Equatable {
        public var customerID: String
        public var previousTier: String?
        public var tier: String
        public var previousLifecycleStage: String?
        public var lifecycleStage: String
        public var lifecycleRule: String
        public var clvPredicted: String?
        public var pAlive: Double?

        enum CodingKeys: String, CodingKey {
            case customerID = "customer_id"
            case previousTier = "previous_tier"
            case tier
            case previousLifecycleStage = "previous_lifecycle_stage"
            case lifecycleStage = "lifecycle_stage"
            case lifecycleRule = "lifecycle_rule"
            case clvPredicted = "clv_predicted"
            case pAlive = "p_alive"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(customerID, forKey: .customerID)
            try container.encode(previousTier, forKey: .previousTier)
            try container.encode(tier, forKey: .tier)
            try container.encode(previousLifecycleStage, forKey: .previousLifecycleStage)
            try container.encode(lifecycleStage, forKey: .lifecycleStage)
            try container.encode(lifecycleRule, forKey: .lifecycleRule)
            try container.encode(clvPredicted, forKey: .clvPredicted)
            try container.encode(pAlive, forKey: .pAlive)
        }
    }

    enum CodingKeys: String, CodingKey {
        case asOf = "as_of"
        case modelID = "model_id"
        case customers, scored
        case repeatCustomers = "repeat_customers"
        case repeatRate = "repeat_rate"
        case value
        case forecast90d = "forecast_90d"
        case cohorts, stages, tiers, grid, transitions
    }

    public func encode(to encoder: any Encoder) throws {
        // Absent figures are written as null, not left out: clients read a fixed set of keys.
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(asOf, forKey: .asOf)
        try container.encode(modelID, forKey: .modelID)
        try container.encode(customers, forKey: .customers)
        try container.encode(scored, forKey: .scored)
        try container.encode(repeatCustomers, forKey: .repeatCustomers)
        try container.encode(repeatRate, forKey: .repeatRate)
        try container.encode(value, forKey: .value)
        try container.encode(forecast90d, forKey: .forecast90d)
        try container.encode(cohorts, forKey: .cohorts)
        try container.encode(stages, forKey: .stages)
        try container.encode(tiers, forKey: .tiers)
        try container.encode(grid, forKey: .grid)
        try container.encode(transitions, forKey: .transitions)
    }

    /// The report as stored and printed by `crm report --json`: keys sorted, one line.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Money with two fractional digits.
    static func money(_ value: Double) -> String {
        String(format: "%.2f", value == 0 ? 0 : value)
    }
}
