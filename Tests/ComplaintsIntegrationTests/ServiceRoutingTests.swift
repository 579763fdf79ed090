import CRMAMQP
import CRMContract
import CRMSupport
import Complaints
import Foundation
import TestSupport
import Testing

@Suite("Complaints service: routing", .serialized)
struct ServiceRoutingTests {
    /// An English and a Chinese complaint of each category, from customers never seen.
    static let cases: [(id: String, subject: String, body: String, language: String, category: String, desk: String)] =
        [
            (
                "EN-DEL", "Parcel never arrived",
                "I ordered two weeks ago and the parcel never arrived; the tracking number shows nothing.", "en",
                "delivery", "logistics"
            ),
            ("ZH-DEL", "快递还没到", "我的包裹已经等了10天还没到，物流信息一直没有更新。", "zh-CN", "delivery", "logistics"),
            (
                "EN-BIL", "Charged twice", "You charged me twice for the same order. I want a refund.", "en", "billing",
                "billing"
            ),
            ("ZH-BIL", "重复扣款", "同一个订单被扣了两次钱，请尽快退款。", "zh-CN", "billing", "billing"),
            (
                "EN-QUA", "Cracked screen", "The phone came with a cracked screen and does not work at all.", "en",
                "product_quality", "quality"
            ),
            ("ZH-QUA", "质量问题", "收到的商品屏幕碎了，根本不能用。", "zh-CN", "product_quality", "quality"),
            (
                "EN-SER", "Rude agent", "The agent on the phone was rude and hung up on me.", "en", "service_attitude",
                "customer_care"
            ),
            ("ZH-SER", "客服态度差", "客服态度非常差，说了几句就挂电话。", "zh-CN", "service_attitude", "customer_care"),
            (
                "EN-ACC", "Cannot sign in",
                "My account is locked and the password reset never sends a verification code.", "en", "account",
                "accounts"
            ),
            ("ZH-ACC", "账号被锁", "我的账号被锁定了，收不到验证码，无法登录。", "zh-CN", "account", "accounts"),
            (
                "EN-OTH", "A suggestion", "It would be nice to have more colours to choose from.", "en", "other",
                "general"
            ),
            ("ZH-OTH", "建议", "希望你们能增加更多颜色可以选择。", "zh-CN", "other", "general"),
        ]

    @Test func englishAndChineseComplaintsOfEachCategoryReachTheirDesks() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = ComplaintsHarness.publisher(environment)
            let bodies = Self.cases.map {
                ComplaintsHarness.complaint(
                    $0.id,
                    customer: "NEW-\($0.id)",
                    subject: $0.subject,
                    body: $0.body,
                    language: $0.language
                )
            }
            try await ComplaintsHarness.publish(bodies, with: publisher)
            let byDesk = Dictionary(grouping: Self.cases, by: \.desk)
            let routed = try await ComplaintsHarness.whileRunning(environment) {
                var routed: [String: RoutedComplaint] = [:]
                for (desk, cases) in byDesk {
                    for message in try await ComplaintsHarness.routed(cases.count, desk: desk, environment) {
                        routed[message.complaint.complaintID.rawValue] = message
                    }
                }
                return routed
            }
            for item in Self.cases {
                let message = try #require(routed[item.id], "\(item.id) did not reach desk.\(item.desk)")
                #expect(message.category == item.category, "\(item.id)")
                #expect(message.desk == item.desk, "\(item.id)")
                #expect(message.complaint.subject == item.subject && message.complaint.body == item.body)
                #expect(message.escalationLevel == 0)
                #expect(message.customer.tier == nil && message.customer.ordersCount == nil)
                #expect(message.customer.openComplaints == 1)
                #expect(message.sla.firstResponseDue < message.sla.resolutionDue)
            }
            #expect(routed["EN-OTH"]?.matchedRule == "default")
            #expect(routed["EN-DEL"]?.matchedRule == "delivery")
            // Everything is stored, with the evidence for the decision.
            let rows = try await environment.pool.query(
                "SELECT complaint_id, category, category_source, desk, rules_version, matched FROM complaints ORDER BY 1"
            )
            #expect(rows.count == Self.cases.count)
            let delivery = try #require(rows.first { $0[0] == "ZH-DEL" })
            #expect(delivery[2] == "rules" && delivery[4] == "1")
            #expect(delivery[5]?.contains("物流") == true)
            await publisher.close()
        }
    }

    @Test func aGoldCustomersMediumComplaintOutranksABronzeCustomers() async throws {
        try await TestServers.withEnvironment { environment in
            try await ComplaintsHarness.customer(
                "GOLD-1",
                tier: .gold,
                stage: "maturity",
                clv: "1520.00",
                orders: 14,
                environment
            )
            try await ComplaintsHarness.customer(
                "BRONZE-1",
                tier: .bronze,
                stage: "development",
                clv: "35.50",
                orders: 1,
                environment
            )
            let publisher = ComplaintsHarness.publisher(environment)
            let text = "The parcel never arrived and the courier does not answer."
            try await ComplaintsHarness.publish(
                [
                    ComplaintsHarness.complaint("K-GOLD", customer: "GOLD-1", subject: "Parcel", body: text),
                    ComplaintsHarness.complaint("K-BRONZE", customer: "BRONZE-1", subject: "Parcel", body: text),
                ],
                with: publisher
            )
            let (gold, bronze, signals) = try await ComplaintsHarness.whileRunning(environment) {
                (
                    try await ComplaintsHarness.routed(1, desk: "priority_care", environment).first,
                    try await ComplaintsHarness.routed(1, desk: "logistics", environment).first,
                    try await ComplaintsHarness.take(
                        2,
                        from: Topology.alertEventsQueue,
                        environment,
                        timeout: .seconds(3)
                    )
                )
            }
            let goldRouted = try #require(gold)
            let bronzeRouted = try #require(bronze)
            #expect(goldRouted.severity == .medium && bronzeRouted.severity == .medium)
            #expect(goldRouted.priority == .p2)
            #expect(bronzeRouted.priority == .p3)
            #expect(goldRouted.matchedRule == "gold-urgent")
            #expect(bronzeRouted.matchedRule == "delivery")
            #expect(goldRouted.customer.tier == .gold && goldRouted.customer.lifecycleStage == .maturity)
            #expect(goldRouted.customer.clv?.description == "1520.00" && goldRouted.customer.ordersCount == 14)
            #expect(bronzeRouted.customer.tier == .bronze && bronzeRouted.customer.ordersCount == 1)
            // Gold reaches crm-alerts; bronze is below the signal tier (silver).
            #expect(signals.count == 1)
            let signal = try ComplaintSignalEvent.decode(body: try #require(signals.first).body)
            #expect(signal.customerID.rawValue == "GOLD-1" && signal.tier == .gold && signal.severity == .medium)
            await publisher.close()
        }
    }

    @Test func anUnknownCustomerIsRoutedAndARepeatComplaintRaisesSeverity() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = ComplaintsHarness.publisher(environment)
            try await ComplaintsHarness.publish(
                [
                    ComplaintsHarness.complaint(
                        "U-1",
                        customer: "NEVER-SEEN",
                        subject: "Lost parcel",
                        body: "The parcel never arrived."
                    )
                ],
                with: publisher
            )
            let (first, second) = try await ComplaintsHarness.whileRunning(environment) {
                let first = try await ComplaintsHarness.routed(1, desk: "logistics", environment).first
                try await ComplaintsHarness.publish(
                    [
                        ComplaintsHarness.complaint(
                            "U-2",
                            customer: "NEVER-SEEN",
                            subject: "Still nothing",
                            body: "快递还没到。"
                        )
                    ],
                    with: publisher
                )
                // Severity medium raised to high; unknown + high is p2: not a rule of its own, so still logistics.
                let second = try await ComplaintsHarness.routed(1, desk: "logistics", environment).first
                return (first, second)
            }
            let one = try #require(first)
            let two = try #require(second)
            #expect(one.customer == RoutedComplaint.Customer(openComplaints: 1))
            #expect(one.severity == .medium && one.priority == .p3)
            #expect(two.customer.openComplaints == 2)
            #expect(two.severity == .high && two.priority == .p2)
            let signals = try await environment.pool.query("SELECT signals FROM complaints WHERE complaint_id = 'U-2'")
            #expect(signals.first?[0]?.contains("repeat_complaint") == true)
            await publisher.close()
        }
    }

    @Test func rulesApplyInOrderWithADefaultDeskAndChangeWithoutARestart() async throws {
        try await TestServers.withEnvironment { environment in
            // Version 1: two rules could take a billing complaint by phone; the first one listed wins.
            let first = try ComplaintsHarness.rules { object in
                object["desks"] = [["name": "alpha"], ["name": "beta"], ["name": "fallback"]]
                object["routing"] = [
                    "default_desk": "fallback",
                    "rules": [
                        ["name": "billing-first", "when": ["category_in": ["billing"]], "desk": "alpha"],
                        ["name": "phone", "when": ["channel_in": ["phone"]], "desk": "beta"],
                    ],
                ]
            }
            try await ComplaintsHarness.load(rules: first, environment)
            let publisher = ComplaintsHarness.publisher(environment, desks: ["alpha", "beta", "fallback", "gamma"])
            let refund = "Please refund me, you charged me twice."
            let parcel = "The parcel never arrived."
            try await ComplaintsHarness.publish(
                [
                    ComplaintsHarness.complaint("R-1", body: refund, channel: "phone"),
                    ComplaintsHarness.complaint("R-2", body: parcel, channel: "PHONE"),
                    ComplaintsHarness.complaint("R-3", body: parcel, channel: "email"),
                ],
                with: publisher
            )
            let results = try await ComplaintsHarness.whileRunning(environment) {
                let alpha = try await ComplaintsHarness.routed(1, desk: "alpha", environment)
                let beta = try await ComplaintsHarness.routed(1, desk: "beta", environment)
                let fallback = try await ComplaintsHarness.routed(1, desk: "fallback", environment)
                // Version 2 while running: phone first, to a new desk whose queue the operator declares.
                let second = try ComplaintsHarness.rules { object in
                    object["desks"] = [["name": "alpha"], ["name": "beta"], ["name": "fallback"], ["name": "delta"]]
                    object["routing"] = [
                        "default_desk": "fallback",
                        "rules": [
                            ["name": "phone-first", "when": ["channel_in": ["phone"]], "desk": "delta"],
                            ["name": "billing-first", "when": ["category_in": ["billing"]], "desk": "alpha"],
                        ],
                    ]
                }
                #expect(try await ComplaintsHarness.load(rules: second, environment) == .stored(version: 2))
                #expect(try await ComplaintsHarness.load(rules: second, environment) == .unchanged(version: 2))
                // The service creates nothing: the version waits for its desk's queue, which `crm rules load` (here,
                // the test as the operator) declares; the watcher puts it in force at its next look.
                try await Task.sleep(for: .milliseconds(600))
                let missing = (try? await publisher.inspectQueue("desk.delta")) == nil
                try await environment.declare(ComplaintsService.topology(desks: ["delta"]))
                let switched = missing
                try await Task.sleep(for: .seconds(1))
                try await ComplaintsHarness.publish(
                    [ComplaintsHarness.complaint("R-4", body: refund, channel: "phone")],
                    with: publisher
                )
                let delta = try await ComplaintsHarness.routed(1, desk: "delta", environment)
                return (alpha, beta, fallback, switched, delta)
            }
            #expect(results.0.map(\.complaint.complaintID.rawValue) == ["R-1"])
            #expect(results.0.first?.matchedRule == "billing-first")
            #expect(results.1.map(\.complaint.complaintID.rawValue) == ["R-2"])
            #expect(results.1.first?.matchedRule == "phone")
            #expect(results.2.map(\.complaint.complaintID.rawValue) == ["R-3"])
            #expect(results.2.first?.matchedRule == "default")
            #expect(results.3)
            #expect(results.4.map(\.complaint.complaintID.rawValue) == ["R-4"])
            #expect(results.4.first?.matchedRule == "phone-first")
            let versions = try await environment.pool.query(
                "SELECT complaint_id, rules_version FROM complaints ORDER BY complaint_id"
            )
            #expect(versions.map { $0[1] } == ["1", "1", "1", "2"])
            await publisher.close()
        }
    }

    @Test func invalidRulesAreRefusedWithEveryProblemNamed() async throws {
        try await TestServers.withEnvironment { environment in
            let broken = try ComplaintsHarness.rules { object in
                object["routing"] = [
                    "default_desk": "nowhere",
                    "rules": [["name": "x", "when": ["category_in": ["nope"]], "desk": "ghost"]],
                ]
            }
            await #expect(throws: ComplaintConfigurationError.self) {
                try await ComplaintsHarness.load(rules: broken, environment)
            }
            let stored = try await environment.pool.query("SELECT count(*) FROM complaint_rules")
            #expect(stored.first?[0] == "0")
        }
    }
}
