// MARK: - JSON

extension RoutedComplaint {
    enum CodingKeys: String, CodingKey {
        case schema, category, severity, priority, desk
        case matchedRule = "matched_rule"
        case customer, sla
        case escalationLevel = "escalation_level"
    }

    /// Decodes and validates a routed complaint: the complaint's fields and routing's, side by side.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.requireSchema(Self.schema, key: .schema)
        complaint = try ComplaintMessage(fields: decoder.container(keyedBy: ComplaintMessage.CodingKeys.self))
        category = try container.required(String.self, .category)
        severity = try container.required(ComplaintSeverity.self, .severity)
        priority = try container.required(ComplaintPriority.self, .priority)
        desk = try container.required(String.self, .desk)
        matchedRule = try container.required(String.self, .matchedRule)
        customer = try container.required(Customer.self, .customer)
        sla = try container.required(SLA.self, .sla)
        escalationLevel = try container.requiredInteger(.escalationLevel, rule: Self.escalationRule)
        try validate(locatedAt: decoder.codingPath)
    }

    /// Encodes the complaint's fields and routing's at one level, with `schema` `routed-complaint.v1`.
    public func encode(to encoder: any Encoder) throws {
        var complaintFields = encoder.container(keyedBy: ComplaintMessage.CodingKeys.self)
        try complaint.encodeFields(into: &complaintFields)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schema, forKey: .schema)
        try container.encode(category, forKey: .category)
        try container.encode(severity, forKey: .severity)
        try container.encode(priority, forKey: .priority)
        try container.encode(desk, forKey: .desk)
        try container.encode(matchedRule, forKey: .matchedRule)
        try container.encode(customer, forKey: .customer)
        try container.encode(sla, forKey: .sla)
        try container.encode(escalationLevel, forKey: .escalationLevel)
    }
}

extension RoutedComplaint.Customer {
    enum CodingKeys: String, CodingKey {
        case tier
        case lifecycleStage = "lifecycle_stage"
        case clv
        case ordersCount = "orders_count"
        case openComplaints = "open_complaints"
    }

    /// Decodes what is known of the customer; every field may be absent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        tier = try container.optional(ValueTier.self, .tier)
        lifecycleStage = try container.optional(LifecycleStage.self, .lifecycleStage)
        clv = try container.optional(Money.self, .clv)
        ordersCount = try container.optionalInteger(.ordersCount, rule: RoutedComplaint.countRule)
        openComplaints = try container.optionalInteger(.openComplaints, rule: RoutedComplaint.countRule)
    }

    /// Encodes the known fields.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(tier, forKey: .tier)
        try container.encodeIfPresent(lifecycleStage, forKey: .lifecycleStage)
        try container.encodeIfPresent(clv, forKey: .clv)
        try container.encodeIfPresent(ordersCount, forKey: .ordersCount)
        try container.encodeIfPresent(openComplaints, forKey: .openComplaints)
    }
}

extension RoutedComplaint.SLA {
    enum CodingKeys: String, CodingKey {
        case firstResponseDue = "first_response_due"
        case resolutionDue = "resolution_due"
    }

    /// Decodes both deadlines, which are required.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        firstResponseDue = try container.required(Timestamp.self, .firstResponseDue)
        resolutionDue = try container.required(Timestamp.self, .resolutionDue)
    }
}
