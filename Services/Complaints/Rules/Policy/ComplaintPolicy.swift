import CRMContract
import CRMSupport
import Foundation

/// The parts of a `complaint.v1` message that the decision logic reads.
///
/// The message type itself lives with the other public messages; this keeps the logic free of
/// transport concerns and easy to build in tests.
public struct ComplaintFacts: Hashable, Sendable {
    /// `received_at`: when the SLA clocks start.
    public var receivedAt: Date
    /// `channel`, e.g. `email`, `phone`, `app`.
    public var channel: String
    /// `subject`, when given.
    public var subject: String?
    /// `body`, when given.
    public var body: String?
    /// `category_hint` from upstream, honoured when it names a configured category or alias.
    public var categoryHint: String?
    /// `language`, a BCP 47 tag such as `en` or `zh-CN`, when given.
    public var language: String?

    /// Creates the facts of one complaint.
    public init(
        receivedAt: Date,
        channel: String,
        subject: String? = nil,
        body: String? = nil,
        categoryHint: String? = nil,
        language: String? = nil
    ) {
        self.receivedAt = receivedAt
        self.channel = channel
        self.subject = subject
        self.body = body
        self.categoryHint = categoryHint
        self.language = language
    }
}

/// Everything decided about a new complaint: the fields the routed complaint adds to the message.
public struct ComplaintDecision: Hashable, Sendable {
    /// Category, severity and the evidence for them.
    public var classification: ComplaintClassification
    /// `priority`.
    public var priority: ComplaintPriority
    /// `desk` and `matched_rule`.
    public var routing: RoutingDecision
    /// `sla.first_response_due` and `sla.resolution_due`, in the desk's working time.
    public var deadlines: SLADeadlines
    /// The started SLA clock, to store with the complaint.
    public var clock: SLAClock

    /// `category`.
    public var category: ComplaintCategory { classification.category }
    /// `severity`.
    public var severity: ComplaintSeverity { classification.severity }
}

/// The complaint rules checked and compiled once: classify, prioritise, route, and time SLAs.
///
/// A value type safe to share between tasks; to pick up edited rules, build a new one and swap it in.
public struct ComplaintPolicy: Sendable {
    /// The rules this policy was built from.
    public let rules: ComplaintRules
    /// The compiled classifier.
    public let classifier: ComplaintClassifier
    /// The checked router.
    public let router: Router

    /// Checks every part of the rules and compiles them; throws every problem found, across all sections.
    public init(rules: ComplaintRules) throws(ComplaintConfigurationError) {
        var issues = ConfigurationIssues()
        if rules.version != ComplaintRules.currentVersion {
            issues.add(
                .invalidValue,
                at: "version",
                "version \(rules.version) is not supported, expected \(ComplaintRules.currentVersion)"
            )
        }
        let classifier = ComplaintClassifier(rules: rules.classification, issues: &issues)
        rules.priority.check(&issues)
        Router.check(
            desks: rules.desks,
            table: rules.routing,
            categories: classifier.knownCategories,
            signals: classifier.signalNames,
            &issues
        )
        rules.sla.check(&issues)
        try issues.throwIfAny()
        self.rules = rules
        self.classifier = classifier
        self.router = Router(checkedDesks: rules.desks, table: rules.routing)
    }

    /// Decodes and compiles a rules document, e.g. the contents of `deploy/complaint-rules.json`.
    public init(json: Data) throws(ComplaintConfigurationError) {
        try self.init(rules: ComplaintRules.decode(from: json))
    }

    /// Classifies, prioritises and routes a new complaint and starts its SLA clock.
    ///
    /// A customer never seen is passed as `CustomerSnapshot.unknown` and routed like any other.
    public func decide(_ complaint: ComplaintFacts, customer: CustomerSnapshot) -> ComplaintDecision {
        let classification = classifier.classify(complaint, customer: customer)
        let priority = rules.priority.priority(severity: classification.severity, tier: customer.tier)
        let routing = router.route(
            RoutingFacts(
                category: classification.category,
                severity: classification.severity,
                priority: priority,
                tier: customer.tier,
                channel: complaint.channel,
                language: complaint.language,
                region: customer.region,
                signals: classification.signals
            )
        )
        let clock = SLAClock(receivedAt: complaint.receivedAt)
        return ComplaintDecision(
            classification: classification,
            priority: priority,
            routing: routing,
            deadlines: rules.sla.deadlines(for: clock, priority: priority, in: routing.desk.workingTime),
            clock: clock
        )
    }

    /// The working time of a desk by name; a desk no longer configured counts around the clock.
    ///
    /// Complaints outlive rule changes, so the sweeper may meet a desk that has since been removed.
    public func workingTime(ofDesk name: String) -> WorkingTime {
        router.desk(named: name)?.workingTime ?? .continuous
    }

    /// Plans the sweeper's warnings and escalations for a stored complaint, in its desk's working time.
    public func escalationPlan(
        for clock: SLAClock,
        priority: ComplaintPriority,
        desk: String,
        progress: EscalationProgress,
        now: Date
    ) -> EscalationPlan {
        rules.sla.escalationPlan(
            for: clock,
            priority: priority,
            in: workingTime(ofDesk: desk),
            progress: progress,
            now: now
        )
    }
}
