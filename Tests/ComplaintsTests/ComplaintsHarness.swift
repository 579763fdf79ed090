import Complaints
import Foundation
import Shared
import TestSupport

/// Runs `crm-complaints` in-process against a test environment and reads what it publishes.
enum ComplaintsHarness {
    /// The shipped rules file.
    static var rulesFile: String { Fixture.rulesURL.path }

    /// The desks of the shipped rules.
    static let shippedDesks = [
        "safety", "risk", "legal", "priority_care", "international", "logistics", "billing", "quality",
        "customer_care", "accounts", "general",
    ]

    /// The service's configuration from settings, with a fast sweeper and rules refresh for tests.
    static func configuration(_ overrides: [String: String] = [:]) throws -> ComplaintsConfiguration {
        var values = [
            "CRM_COMPLAINT_RULES_FILE": rulesFile, "CRM_COMPLAINTS_SWEEP_INTERVAL": "100ms",
            "CRM_COMPLAINTS_RULES_REFRESH": "200ms",
        ]
        values.merge(overrides) { _, new in new }
        return try ComplaintsConfiguration(settings: Settings(values))
    }

    /// A publisher that declares the service's topology with `desks` first, as `crm migrate` does.
    static func publisher(_ environment: TestEnvironment, desks: [String] = shippedDesks) -> AMQPPublisher {
        AMQPPublisher(
            settings: environment.amqp, name: "test", topology: ComplaintsService.topology(desks: desks),
            logger: TestServers.logger)
    }

    /// Publishes complaints (`complaint.v1.new`) or status updates (`complaint.v1.status`) with confirms.
    static func publish(_ bodies: [Data], key: String = "complaint.v1.new", with publisher: AMQPPublisher) async throws {
        try await publisher.publish(
            bodies.map { OutboundMessage(exchange: Topology.complaintsExchange, routingKey: key, body: $0) })
    }

    /// Runs one replica of the service (consumers, relay, sweeper, rules watcher) while `body` runs.
    static func whileRunning<T: Sendable>(
        _ environment: TestEnvironment, configuration: ComplaintsConfiguration? = nil, replicas: Int = 1,
        _ body: @escaping @Sendable ([ComplaintsRuntime]) async throws -> T
    ) async throws -> T {
        let configuration = try configuration ?? self.configuration()
        var runtimes: [ComplaintsRuntime] = []
        var publishers: [AMQPPublisher] = []
        var pools: [PostgresPool] = []
        for replica in 0..<replicas {
            let pool =
                replica == 0
                ? environment.pool
                : PostgresPool(url: environment.database.url, size: 2, applicationName: "replica", logger: TestServers.logger)
            let publisher = AMQPPublisher(
                settings: environment.amqp, name: "complaints-\(replica)", topology: ComplaintsService.topology,
                logger: TestServers.logger)
            runtimes.append(
                try await ComplaintsRuntime.make(
                    configuration: configuration, pool: pool, publisher: publisher, amqp: environment.amqp,
                    logger: TestServers.logger))
            publishers.append(publisher)
            if replica > 0 { pools.append(pool) }
        }
        let services = runtimes.flatMap(\.services)
        let all = runtimes
        let result = try await withThrowingTaskGroup(of: T?.self) { group in
            for service in services {
                group.addTask {
                    try await service.run()
                    return nil
                }
            }
            group.addTask { try await body(all) }
            var result: T?
            for try await value in group {
                if let value {
                    result = value
                    group.cancelAll()
                }
            }
            return result!
        }
        for publisher in publishers { await publisher.close() }
        for pool in pools { await pool.close() }
        return result
    }

    /// Waits until `condition` holds, up to `timeout`.
    static func eventually(_ timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    /// Takes up to `count` messages from `queue`, waiting at most `timeout` for them, and acknowledges them.
    static func take(
        _ count: Int, from queue: String, _ environment: TestEnvironment, timeout: Duration = .seconds(30)
    ) async throws -> [InboundMessage] {
        let consumer = AMQPConsumer(settings: environment.amqp, queue: queue, prefetch: 500, logger: TestServers.logger)
        let deadline = ContinuousClock.now + timeout
        var messages: [InboundMessage] = []
        while messages.count < count, ContinuousClock.now < deadline {
            do {
                let batch = try await consumer.nextBatch(
                    maxCount: count - messages.count, wait: .milliseconds(200), linger: .milliseconds(20))
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
    static func routed(_ count: Int, desk: String, _ environment: TestEnvironment, timeout: Duration = .seconds(30))
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
        _ id: String, customer: String = "C-1", subject: String? = nil, body: String? = nil, hint: String? = nil,
        channel: String = "email", language: String? = nil, receivedAt: Date = Date()
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
                .utf8)
    }

    // MARK: - Database

    /// A scored customer, as intake and scoring would have left them.
    static func customer(
        _ id: String, tier: String, stage: String, clv: String, orders: Int, region: String? = nil,
        _ environment: TestEnvironment
    ) async throws {
        try await environment.pool.transaction { connection in
            try connection.execute("INSERT INTO customers (customer_id, region) VALUES ($1, $2)", [id, region])
            try connection.execute(
                """
                INSERT INTO customer_scores (customer_id, scored_at, orders_count, transactions, monetary_total,
                    monetary_average, clv_historical, clv_simple, clv_predicted, lifecycle_stage, lifecycle_rule, tier)
                VALUES ($1, now(), $2, $2, 100, 10, 100, 100, $3::numeric, $4, 'test', $5)
                """, [id, orders, clv, stage, tier])
        }
    }

    /// The shipped rules, changed by `edit`, as a JSON document.
    static func rules(_ edit: (inout [String: Any]) -> Void) throws -> String {
        let data = try Data(contentsOf: Fixture.rulesURL)
        guard var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TestSetupError("the shipped rules are not a JSON object")
        }
        edit(&object)
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
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
    static func load(rules document: String, _ environment: TestEnvironment) async throws -> ComplaintRulesStore.StoreResult {
        try await environment.pool.transaction { connection in
            try ComplaintRulesStore.store(document, source: "test", on: connection)
        }
    }
}
