import Foundation

/// A lifecycle event for marketing tools (`customer-lifecycle.v1` on `crm.lifecycle`), published by `crm-scoring`.
///
/// Two kinds, told apart by `event` and by the routing key:
/// - `stage_changed` (routing key `lifecycle.<stage>`): the customer moved into `stage`; `previous_stage` is the
///   stage of the customer's previous event (absent for the first), `rule` the lifecycle rule that decided.
/// - `purchase_due` (routing key `lifecycle.purchase_due`): a repeat customer passed its expected next purchase,
///   `expected_at` (last purchase + the customer's expected interval); once per expected purchase.
///
/// ```json
/// {"schema": "customer-lifecycle.v1", "event_id": "…", "event": "stage_changed", "customer_id": "C-42",
///  "stage": "maturity", "previous_stage": "growth", "rule": "maturity.stable_high_value", "tier": "gold",
///  "changed_at": "2026-12-05T10:00:00Z", "clv": "1520.00", "p_alive": 0.93, "suggested_action": "loyalty_reward"}
/// ```
public struct CustomerLifecycleEvent: SchemaMessage {
    /// `customer-lifecycle.v1`.
    public static let schema = "customer-lifecycle.v1"

    /// What happened.
    public enum Event: String, MessageVocabulary {
        /// The customer's lifecycle stage changed.
        case stageChanged = "stage_changed"
        /// A repeat customer's expected next purchase is due.
        case purchaseDue = "purchase_due"
    }

    /// Unique per event (also the message id): a consumer that sees it twice has seen one event.
    public var eventID: String
    /// Stage change or purchase due.
    public var event: Event
    /// The customer.
    public var customerID: Identifier
    /// The customer's stage now.
    public var stage: LifecycleStage
    /// The stage of the customer's previous `stage_changed` event; absent for the first, and for `purchase_due`.
    public var previousStage: LifecycleStage?
    /// The lifecycle rule behind `stage` (docs/scoring.md).
    public var rule: String?
    /// The customer's value tier.
    public var tier: ValueTier
    /// When it happened: the scoring time of a stage change, the time the sweep found a purchase due.
    public var changedAt: Timestamp
    /// Predicted lifetime value; absent before a model is fitted.
    public var clv: Money?
    /// Probability the customer is still active; absent before a model is fitted.
    public var pAlive: Double?
    /// The last purchase; absent for a customer without purchases.
    public var lastOrderAt: Timestamp?
    /// The expected next purchase (`purchase_due` only).
    public var expectedAt: Timestamp?
    /// What to do, from the lifecycle playbook by stage (or `purchase_due`) and tier.
    public var suggestedAction: String

    /// Creates the event; call ``validate()`` to check it.
    public init(
        eventID: String,
        event: Event,
        customerID: Identifier,
        stage: LifecycleStage,
        previousStage: LifecycleStage? = nil,
        rule: String? = nil,
        tier: ValueTier,
        changedAt: Timestamp,
        clv: Money? = nil,
        pAlive: Double? = nil,
        lastOrderAt: Timestamp? = nil,
        expectedAt: Timestamp? = nil,
        suggestedAction: String
    ) {
        self.eventID = eventID
        self.event = event
        self.customerID = customerID
        self.stage = stage
        self.previousStage = previousStage
        self.rule = rule
        self.tier = tier
        self.changedAt = changedAt
        self.clv = clv
        self.pAlive = pAlive
        self.lastOrderAt = lastOrderAt
        self.expectedAt = expectedAt
        self.suggestedAction = suggestedAction
    }

    /// The routing key on `crm.lifecycle`: `lifecycle.<stage>` or `lifecycle.purchase_due`.
    public var routingKey: String {
        switch event {
        case .stageChanged: "lifecycle.\(stage.rawValue)"
        case .purchaseDue: "lifecycle.purchase_due"
        }
    }

    /// Checks the labels, p_alive's range and that `expected_at` comes with `purchase_due` alone.
    public func validate() throws(MessageRejection) {
        try TextRules.check(label: eventID, field: "event_id")
        try TextRules.check(label: rule, field: "rule")
        try TextRules.check(label: suggestedAction, field: "suggested_action")
        try TextRules.check(pAlive, in: 0...1, field: "p_alive", rule: "must be a probability, 0 to 1")
        switch (event, expectedAt) {
        case (.purchaseDue, nil): throw MessageRejection(.missingField, field: "expected_at", "required")
        case (.stageChanged, .some):
            throw MessageRejection(.invalidValue, field: "expected_at", "only on purchase_due")
        default: break
        }
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case eventID = "event_id"
        case event
        case customerID = "customer_id"
        case stage
        case previousStage = "previous_stage"
        case rule, tier
        case changedAt = "changed_at"
        case clv
        case pAlive = "p_alive"
        case lastOrderAt = "last_order_at"
        case expectedAt = "expected_at"
        case suggestedAction = "suggested_action"
    }

    /// Decodes and validates the event; ``decode(body:)`` is the entry point for raw bodies.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.requireSchema(Self.schema, key: .schema)
        eventID = try container.required(String.self, .eventID)
        event = try container.required(Event.self, .event)
        customerID = try container.required(Identifier.self, .customerID)
        stage = try container.required(LifecycleStage.self, .stage)
        previousStage = try container.optional(LifecycleStage.self, .previousStage)
        rule = try container.optional(String.self, .rule)
        tier = try container.required(ValueTier.self, .tier)
        changedAt = try container.required(Timestamp.self, .changedAt)
        clv = try container.optional(Money.self, .clv)
        pAlive = try container.optionalNumber(.pAlive, rule: "must be a number")
        lastOrderAt = try container.optional(Timestamp.self, .lastOrderAt)
        expectedAt = try container.optional(Timestamp.self, .expectedAt)
        suggestedAction = try container.required(String.self, .suggestedAction)
        try validate(locatedAt: decoder.codingPath)
    }

    /// Encodes the event; `previous_stage` is written as null when absent on a stage change.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schema, forKey: .schema)
        try container.encode(eventID, forKey: .eventID)
        try container.encode(event, forKey: .event)
        try container.encode(customerID, forKey: .customerID)
        try container.encode(stage, forKey: .stage)
        if event == .stageChanged {
            try container.encode(previousStage, forKey: .previousStage)
        }
        try container.encodeIfPresent(rule, forKey: .rule)
        try container.encode(tier, forKey: .tier)
        try container.encode(changedAt, forKey: .changedAt)
        try container.encodeIfPresent(clv, forKey: .clv)
        try container.encodeIfPresent(pAlive, forKey: .pAlive)
        try container.encodeIfPresent(lastOrderAt, forKey: .lastOrderAt)
        try container.encodeIfPresent(expectedAt, forKey: .expectedAt)
        try container.encode(suggestedAction, forKey: .suggestedAction)
    }
}
