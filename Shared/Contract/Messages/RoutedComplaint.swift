import Foundation

/// A classified complaint as a desk receives it on `desk.<name>` (and again on `desk.escalations` when escalated).
///
/// The complaint's own fields sit at the top level, exactly as received, beside what routing added: `category`,
/// `severity`, `priority`, `desk`, `matched_rule`, `customer`, `sla`, `escalation_level`. Its `schema` is
/// `routed-complaint.v1`: the public interface names no schema for it, and a desk client that dispatches on
/// `schema` must not mistake it for a raw `complaint.v1`.
public struct RoutedComplaint: SchemaMessage {
    /// `routed-complaint.v1`.
    public static let schema = "routed-complaint.v1"

    /// The rule for `escalation_level`, also its rejection text.
    static let escalationRule = "must be a whole number, 0 when first routed"
    /// The rule for the customer's counts, also their rejection text.
    static let countRule = "must be a whole number, 0 or more"

    /// The complaint as received.
    public var complaint: ComplaintMessage
    /// The category classification chose, e.g. `delivery`.
    public var category: String
    /// How serious the complaint is.
    public var severity: ComplaintSeverity
    /// How urgently the desk handles it.
    public var priority: ComplaintPriority
    /// The desk it was routed to; also the `desk.<name>` routing key.
    public var desk: String
    /// The routing rule that chose the desk, for audits.
    public var matchedRule: String
    /// The customer's value as known when routed.
    public var customer: Customer
    /// When the desk must answer and resolve.
    public var sla: SLA
    /// 0 when first routed, one more on each escalation.
    public var escalationLevel: Int

    /// The customer's standing as known when the complaint was routed; all fields absent for an unknown customer.
    public struct Customer: Codable, Sendable, Hashable {
        /// The value tier, e.g. `gold`.
        public var tier: ValueTier?
        /// The lifecycle stage, e.g. `active`, `decline`.
        public var lifecycleStage: LifecycleStage?
        /// The predicted customer lifetime value, in the customer's currency.
        public var clv: Money?
        /// How many orders the customer has placed.
        public var ordersCount: Int?
        /// How many of the customer's complaints are open, this one included.
        public var openComplaints: Int?

        /// Creates a customer snapshot.
        public init(
            tier: ValueTier? = nil,
            lifecycleStage: LifecycleStage? = nil,
            clv: Money? = nil,
            ordersCount: Int? = nil,
            openComplaints: Int? = nil
        ) {
            self.tier = tier
            self.lifecycleStage = lifecycleStage
            self.clv = clv
            self.ordersCount = ordersCount
            self.openComplaints = openComplaints
        }
    }

    /// The deadlines the desk works to.
    public struct SLA: Codable, Sendable, Hashable {
        /// When a person must have acknowledged the complaint.
        public var firstResponseDue: Timestamp
        /// When it must be resolved.
        public var resolutionDue: Timestamp

        /// Creates a pair of deadlines.
        public init(firstResponseDue: Timestamp, resolutionDue: Timestamp) {
            self.firstResponseDue = firstResponseDue
            self.resolutionDue = resolutionDue
        }
    }

    /// Creates a routed complaint; call ``validate()`` to check it.
    public init(
        complaint: ComplaintMessage,
        category: String,
        severity: ComplaintSeverity,
        priority: ComplaintPriority,
        desk: String,
        matchedRule: String,
        customer: Customer,
        sla: SLA,
        escalationLevel: Int = 0
    ) {
        self.complaint = complaint
        self.category = category
        self.severity = severity
        self.priority = priority
        self.desk = desk
        self.matchedRule = matchedRule
        self.customer = customer
        self.sla = sla
        self.escalationLevel = escalationLevel
    }

    /// Checks the complaint, the labels, the counts and that resolution is not due before the first response.
    public func validate() throws(MessageRejection) {
        try complaint.validate()
        try TextRules.check(label: category, field: "category")
        try TextRules.check(label: desk, field: "desk")
        try TextRules.check(label: matchedRule, field: "matched_rule")
        try TextRules.check(
            escalationLevel,
            in: 0...Int(Int32.max),
            field: "escalation_level",
            rule: Self.escalationRule
        )
        let counts = [("orders_count", customer.ordersCount), ("open_complaints", customer.openComplaints)]
        for (field, count) in counts {
            try TextRules.check(count, in: 0...Int.max, field: "customer." + field, rule: Self.countRule)
        }
        guard sla.resolutionDue >= sla.firstResponseDue else {
            throw MessageRejection(.invalidValue, field: "sla.resolution_due", "before sla.first_response_due")
        }
    }
}
