import CRMContract
import Complaints
import Testing

@Suite("Router")
struct LogicRouterTests {
    static let desks = [Desk(name: "vip"), Desk(name: "billing"), Desk(name: "chinese"), Desk(name: "general")]

    static func facts(
        category: ComplaintCategory = .billing,
        severity: ComplaintSeverity = .medium,
        priority: ComplaintPriority = .p3,
        tier: CustomerTier = .bronze,
        channel: String = "email",
        language: String? = nil,
        region: String? = nil,
        signals: [String] = []
    ) -> RoutingFacts {
        RoutingFacts(
            category: category,
            severity: severity,
            priority: priority,
            tier: tier,
            channel: channel,
            language: language,
            region: region,
            signals: signals
        )
    }

    let router: Router

    init() throws {
        router = try Router(
            desks: Self.desks,
            table: RoutingTable(
                defaultDesk: "general",
                rules: [
                    RoutingRule(name: "gold-urgent", when: .init(priorityAtMost: .p2, tierIn: [.gold]), desk: "vip"),
                    RoutingRule(name: "billing", when: .init(categoryIn: [.billing]), desk: "billing"),
                    RoutingRule(
                        name: "chinese-phone",
                        when: .init(channelIn: ["Phone"], languageIn: ["zh"]),
                        desk: "chinese"
                    ),
                    RoutingRule(name: "serious", when: .init(severityAtLeast: .high), desk: "vip"),
                ]
            )
        )
    }

    @Test("The first matching rule wins, in configured order")
    func firstMatchWins() {
        // Both "gold-urgent" and "billing" hold; the earlier one decides.
        let decision = router.route(Self.facts(priority: .p2, tier: .gold))
        #expect(decision.desk.name == "vip")
        #expect(decision.matchedRule == "gold-urgent")
        #expect(router.route(Self.facts(priority: .p3, tier: .gold)).matchedRule == "billing")
    }

    @Test("Nothing matching goes to the default desk, named default")
    func defaultDesk() {
        let decision = router.route(Self.facts(category: .delivery, severity: .low, priority: .p4))
        #expect(decision.desk.name == "general")
        #expect(decision.matchedRule == Router.defaultRuleName)
        #expect(decision.desk.queue == "desk.general")
    }

    @Test("Every given condition must hold; channel ignores case; language takes subtags")
    func conditions() {
        #expect(
            router.route(Self.facts(category: .delivery, channel: "phone", language: "zh-CN")).desk.name == "chinese"
        )
        #expect(
            router.route(Self.facts(category: .delivery, channel: "PHONE", language: "zh_TW")).desk.name == "chinese"
        )
        #expect(router.route(Self.facts(category: .delivery, channel: "email", language: "zh")).desk.name == "general")
        #expect(router.route(Self.facts(category: .delivery, channel: "phone", language: "zhx")).desk.name == "general")
        #expect(router.route(Self.facts(category: .delivery, channel: "phone")).desk.name == "general")
    }

    @Test("Severity at least and priority at most include their bounds")
    func bounds() {
        #expect(router.route(Self.facts(category: .other, severity: .high)).matchedRule == "serious")
        #expect(router.route(Self.facts(category: .other, severity: .critical)).matchedRule == "serious")
        #expect(router.route(Self.facts(category: .other, severity: .medium)).matchedRule == "default")
        #expect(router.route(Self.facts(priority: .p1, tier: .gold)).matchedRule == "gold-urgent")
    }

    @Test("Region and signal conditions")
    func regionAndSignal() throws {
        let router = try Router(
            desks: Self.desks,
            table: RoutingTable(
                defaultDesk: "general",
                rules: [
                    RoutingRule(name: "legal", when: .init(signalIn: ["legal_threat"]), desk: "vip"),
                    RoutingRule(name: "east", when: .init(regionIn: ["East"]), desk: "chinese"),
                ]
            )
        )
        #expect(router.route(Self.facts(signals: ["frustration", "legal_threat"])).matchedRule == "legal")
        #expect(router.route(Self.facts(region: "east")).matchedRule == "east")
        #expect(router.route(Self.facts(region: nil)).matchedRule == "default")
    }

    @Test("A queue exists for every configured desk, plus escalations")
    func queues() {
        #expect(router.queues == ["desk.vip", "desk.billing", "desk.chinese", "desk.general", "desk.escalations"])
    }
}
