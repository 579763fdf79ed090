import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMRuntime
import CRMSupport
import Complaints
import Foundation
import TestSupport

/// Runs `crm-complaints` in-process against a test environment and reads what it publishes.
enum ComplaintsHarness {
    /// The shipped rules file.
    static var rulesFile: String { Repository.file("deploy/complaint-rules.json").path }

    /// The desks of the shipped rules.
    static let shippedDesks = [
        "safety", "risk", "legal", "priority_care", "international", "logistics", "billing", "quality",
        "customer_care", "accounts", "general",
    ]

    /// The settings of a test's service: the shipped rules, a fast sweeper and rules refresh, then `overrides`.
    static func settings(_ overrides: [String: String] = [:]) -> [String: String] {
        [
            "CRM_COMPLAINT_RULES_FILE": rulesFile, "CRM_COMPLAINTS_SWEEP_INTERVAL": "100ms",
            "CRM_COMPLAINTS_RULES_REFRESH": "200ms",
        ].merging(overrides) { $1 }
    }

    /// The service's configuration read from ``settings(_:)``, as the service reads it.
    static func configuration(_ overrides: [String: String] = [:]) throws -> ComplaintsConfiguration {
        try ComplaintsConfiguration(settings: Settings(settings(overrides)))
    }

    /// A publisher that declares the service's topology with `desks` first, and alerts' queue its signals go to, as
    /// `crm migrate` does.
    static func publisher(_ environment: TestEnvironment, desks: [String] = shippedDesks) -> AMQPPublisher {
        AMQPPublisher(
            settings: environment.amqp,
            name: "test",
            topology: ComplaintsService.topology(desks: desks).merging(Topology.alerts),
            logger: TestServers.logger
        )
    }

    /// Publishes complaints (`complaint.v1.new`) or status updates (`complaint.v1.status`) with confirms.
    static func publish(_ bodies: [Data], key: String = "complaint.v1.new", with publisher: AMQPPublisher) async throws
    {
        try await publisher.publish(
            bodies.map { OutboundMessage(exchange: Topology.complaintsExchange, routingKey: key, body: $0) }
        )
    }

    /// Runs `replicas` replicas of crm-complaints, built as its executable builds them, while `body` runs.
    static func whileRunning<T: Sendable>(
        _ environment: TestEnvironment,
        settings: [String: String] = settings(),
        replicas: Int = 1,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await environment.whileRunning(
            "crm-complaints",
            topology: ComplaintsService.topology(desks: shippedDesks).merging(Topology.alerts),
            settings: settings,
            replicas: replicas,
            parts: ComplaintsService.parts
        ) { _ in try await body() }
    }

    /// An SLA sweeper as a replica of the service builds it, on a pool of its own (close it afterwards); what it
    /// writes into the outbox is published by a running replica's relay.
    static func sweeper(
        _ environment: TestEnvironment,
        settings: [String: String],
        name: String
    ) async throws -> (sweeper: SLASweeper, pool: PostgresPool) {
        let configuration = try ComplaintsConfiguration(settings: Settings(settings))
        let pool = PostgresPool(
            url: environment.database.url,
            size: 2,
            applicationName: name,
            logger: TestServers.logger
        )
        let policies = try await ComplaintPolicyHolder.load(pool: pool, configuration: configuration)
        let sweeper = SLASweeper(
            pool: pool,
            outbox: Outbox(of: .complaints),
            policies: policies,
            interval: configuration.sweepInterval,
            batchSize: configuration.sweepBatch,
            logger: TestServers.logger
        )
        return (sweeper, pool)
    }

    /// Takes up to `count` messages from `queue`, waiting at most `timeout` for them, and acknowledges them.
    static func take(
        _ count: Int,
        from queue: String,
        _ environment: TestEnvironment,
        timeout: Duration = .seconds(30)
    ) async throws -> [InboundMessage] {
        let consumer = AMQPConsumer(settings: environment.amqp, queue: queue, prefetch: 500, logger: TestServers.logger)
        let deadline = ContinuousClock.now + timeout
        var messages: [InboundMessage] = []
        while messages.count < count, ContinuousClock.now < deadline {
            do {
                let batch = try await consumer.nextBatch(
                    maxCount: count - messages.count,
                    wait: .milliseconds(200),
                    linger: .milliseconds(20)
                )
                if let last = batch.last { try await consumer.acknowledge(upTo: last) }
                messages += batch
            } catch {
                // The queue may not be declared yet (a desk the service is about to declare): try again.
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        await consumer.close()
        return messages
    }

    /// The routed complaints taken from `desk.<desk>`.
    static func routed(
        _ count: Int,
        desk: String,
        _ environment: TestEnvironment,
        timeout: Duration = .seconds(30)
    )
        async throws -> [RoutedComplaint]
    {
        try await take(count, from: "desk.\(desk)", environment, timeout: timeout).map {
            try RoutedComplaint.decode(body: $0.body)
        }
    }

    /// How many messages wait in a queue now.
    static func depth(_ queue: String, _ environment: TestEnvironment) async throws -> Int {
        let publisher = AMQPPublisher(settings: environment.amqp, name: "depth", logger: TestServers.logger)
        let depth = try await publisher.inspectQueue(queue).messages
        await publisher.close()
        return depth
    }

    // MARK: - Messages

    static func complaint(
        _ id: String,
        customer: String = "C-1",
        subject: String? = nil,
        body: String? = nil,
        hint: String? = nil,
        channel: String = "email",
        language: String? = nil,
        receivedAt: Date = Date()
    ) -> Data {
        var object: [String: Any] = [
            "schema": "complaint.v1", "complaint_id": id, "customer_id": customer, "channel": channel,
            "received_at": Timestamp(receivedAt).rfc3339,
        ]
        object["subject"] = subject
        object["body"] = body
        object["category_hint"] = hint
        object["language"] = language
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    }

    static func status(_ id: String, _ status: String, at: Date = Date(), agent: String = "agent-1") -> Data {
        Data(
            #"{"schema":"complaint-status.v1","complaint_id":"\#(id)","status":"\#(status)","at":"\#(Timestamp(at).rfc3339)","agent":"\#(agent)"}"#
                .utf8
        )
    }

    // MARK: - Database

    /// A scored customer, as intake and scoring would have left them.
    static func customer(
        _ id: String,
        tier: ValueTier,
        stage: String,
        clv: String,
        orders: Int,
        region: String? = nil,
        _ environment: TestEnvironment
    ) async throws {
        try await environment.pool.transaction { connection in
            try connection.execute("INSERT INTO customers (customer_id, region) VALUES ($1, $2)", [id, region])
            try connection.execute(
                """
                INSERT INTO customer_scores (customer_id, scored_at, orders_count, transactions, monetary_total,
                    monetary_average, clv_historical, clv_simple, clv_predicted, lifecycle_stage, lifecycle_rule, tier)
                VALUES ($1, now(), $2, $2, 100, 10, 100, 100, $3::numeric, $4, 'test', $5)
                """,
                [id, orders, clv, stage, tier.rawValue]
            )
        }
    }

    /// The shipped rules, changed by `edit`, as a JSON document.
    static func rules(_ edit: (inout [String: Any]) -> Void) throws -> String {
        let data = try Data(contentsOf: Repository.file("deploy/complaint-rules.json"))
        guard var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TestSetupError("the shipped rules are not a JSON object")
        }
        edit(&object)
        return String(
            decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
            as: UTF8.self
        )
    }

    /// The shipped rules with every desk open around the clock, so short SLA targets run at any hour.
    static func roundTheClockRules() throws -> String {
        try rules { object in
            let desks = object["desks"] as? [[String: Any]] ?? []
            object["desks"] = desks.map { desk in desk.filter { $0.key != "business_hours" } }
        }
    }

    /// Stores a rules document as the next version.
    @discardableResult
    static func load(
        rules document: String,
        _ environment: TestEnvironment
    ) async throws -> ComplaintRulesStore.StoreResult {
        try await environment.pool.transaction { connection in
            try ComplaintRulesStore.store(document, source: "test", on: connection)
        }
    }
}
