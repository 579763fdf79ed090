import CRMAMQP
import CRMContract
import CRMPostgres
import CRMSupport
import Foundation
import TestSupport

@testable import Alerts

/// Runs crm-alerts' parts in-process against a test environment, and writes what scoring and complaints would.
enum AlertsHarness {
    /// The settings of a test's service: a fast tick, no sweep unless asked for, no caps, the shipped playbook, no
    /// control group unless asked for.
    static func settings(
        sweepInterval: Duration = .seconds(3_600),
        cooldown: Duration = .seconds(30 * 86_400),
        caps: [AlertPriority: Int] = [.p1: 0, .p2: 0, .p3: 0],
        minimumTier: ValueTier = .gold,
        controlShare: Double = 0
    ) -> [String: String] {
        var settings = [
            "CRM_ALERTS_SWEEP_INTERVAL": "\(sweepInterval.milliseconds)ms",
            "CRM_ALERTS_COOLDOWN": "\(cooldown.milliseconds)ms",
            "CRM_ALERTS_TICK_INTERVAL": "100ms", "CRM_ALERTS_BATCH_SIZE": "100",
            "CRM_ALERTS_MINIMUM_TIER": minimumTier.rawValue, "CRM_ALERTS_CONTROL_SHARE": "\(controlShare)",
            "CRM_RETENTION_PLAYBOOK_FILE": Repository.file("deploy/retention-playbook.json").path,
        ]
        for (priority, cap) in caps { settings["CRM_ALERTS_DAILY_CAP_\(priority.rawValue.uppercased())"] = "\(cap)" }
        return settings
    }

    /// The service's configuration read from `settings`, as the service reads it.
    static func configuration(_ settings: [String: String] = settings()) throws -> AlertsConfiguration {
        try AlertsConfiguration(Settings(settings))
    }

    static func playbook() throws -> PlaybookSource {
        PlaybookSource(
            playbook: try RetentionPlaybook(json: Data(contentsOf: Repository.file("deploy/retention-playbook.json"))),
            logger: TestServers.logger
        )
    }

    static func publisher(_ environment: TestEnvironment) -> AMQPPublisher {
        AMQPPublisher(
            settings: environment.amqp,
            name: "test",
            topology: AlertsService.topology,
            logger: TestServers.logger
        )
    }

    /// Runs `replicas` copies of crm-alerts, built as its executable builds them, while `body` runs.
    static func whileRunning<T: Sendable>(
        _ environment: TestEnvironment,
        settings: [String: String] = settings(),
        replicas: Int = 1,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await environment.whileRunning(
            "crm-alerts",
            topology: AlertsService.topology,
            settings: settings,
            replicas: replicas,
            parts: AlertsService.parts
        ) { _ in try await body() }
    }

    /// Waits until every score's scoring has been evaluated and the alerts' outbox is empty.
    static func evaluated(_ scores: [Score], _ environment: TestEnvironment) async throws -> Bool {
        try await eventually {
            let done = try await count(
                environment,
                """
                SELECT count(*) FROM alert_customer_state s
                JOIN unnest($1::text[], $2::timestamptz[]) AS x(c, t) ON s.customer_id = x.c AND s.scored_at >= x.t
                """,
                [scores.map(\.customerID), scores.map { $0.scoredAt.addingTimeInterval(-0.001) }]
            )
            let outbox = try await count(environment, "SELECT count(*) FROM crm_outbox WHERE source = 'alerts'")
            return done == Set(scores.map(\.customerID)).count && outbox == 0
        }
    }

    /// True once `alerts.events` has no ready message and the alerts' outbox is empty (a batch may be in hand).

    static func settled(_ environment: TestEnvironment, _ publisher: AMQPPublisher) async throws -> Bool {
        let waiting = try await publisher.inspectQueue(Topology.alertEventsQueue).messages
        let feedback = try await publisher.inspectQueue(Topology.feedbackQueue).messages
        let outbox = try await count(environment, "SELECT count(*) FROM crm_outbox WHERE source = 'alerts'")
        return waiting == 0 && feedback == 0 && outbox == 0
    }

    static func count(
        _ environment: TestEnvironment,
        _ sql: String,
        _ parameters: [(any PostgresEncodable)?] = []
    )
        async throws -> Int
    {
        try await environment.pool.query(sql, parameters)[0].decode(0)
    }

    // MARK: - What scoring and complaints would write

    /// A score as scoring writes it into `customer_scores` (and the customer it needs).
    struct Score: Sendable {
        var customerID: String
        var stage: LifecycleStage = .maturity
        var tier: ValueTier = .gold
        var pAlive: Double = 0.9
        var predicted: Double = 2_000
        var orders: Int = 14
        var interval: Double? = 21.5
        var lastOrderAt: Date = Date().addingTimeInterval(-10 * 86_400)
        var scoredAt: Date = Date()
    }

    static func store(_ scores: [Score], _ environment: TestEnvironment) async throws {
        try await environment.pool.execute(
            "INSERT INTO customers (customer_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
            [scores.map(\.customerID)]
        )
        try await environment.pool.execute(
            """
            INSERT INTO customer_scores AS s (customer_id, scored_at, orders_count, transactions, last_order_at,
                monetary_total, monetary_average, clv_historical, clv_simple, clv_predicted, p_alive,
                expected_interval_days, lifecycle_stage, lifecycle_rule, tier)
            SELECT c, sa, o, o, lo, 0, 0, 0, 0, clv, pa, ei, st, 'test', t
            FROM unnest($1::text[], $2::timestamptz[], $3::int[], $4::timestamptz[], $5::numeric[], $6::float8[],
                        $7::float8[], $8::text[], $9::text[]) AS x(c, sa, o, lo, clv, pa, ei, st, t)
            ON CONFLICT (customer_id) DO UPDATE SET scored_at = EXCLUDED.scored_at, orders_count = EXCLUDED.orders_count,
                last_order_at = EXCLUDED.last_order_at, clv_predicted = EXCLUDED.clv_predicted,
                p_alive = EXCLUDED.p_alive, expected_interval_days = EXCLUDED.expected_interval_days,
                lifecycle_stage = EXCLUDED.lifecycle_stage, tier = EXCLUDED.tier
            """,
            [
                scores.map(\.customerID), scores.map(\.scoredAt), scores.map(\.orders), scores.map(\.lastOrderAt),
                scores.map { Decimal($0.predicted) }, scores.map(\.pAlive), scores.map(\.interval),
                scores.map(\.stage.rawValue), scores.map(\.tier.rawValue),
            ]
        )
    }

    /// The `customer.scored` event of a score, with the previous stage and tier scoring had.
    static func event(_ score: Score, previous: (LifecycleStage, ValueTier)? = nil) throws -> OutboundMessage {
        let silence = score.scoredAt.timeIntervalSince(score.lastOrderAt) / 86_400
        let event = CustomerScoredEvent(
            customerID: try Identifier(score.customerID),
            previousLifecycleStage: previous?.0,
            previousTier: previous?.1,
            customer: CustomerValueSnapshot(
                tier: score.tier,
                lifecycleStage: score.stage,
                clv: try Money(Decimal(string: String(format: "%.2f", score.predicted)) ?? 0),
                pAlive: score.pAlive,
                lastOrderAt: Timestamp(score.lastOrderAt),
                ordersCount: score.orders,
                expectedIntervalDays: score.interval,
                daysSinceLastOrder: Int(silence)
            ),
            scoredAt: Timestamp(score.scoredAt)
        )
        return OutboundMessage(
            exchange: Topology.eventsExchange,
            routingKey: Topology.EventKey.customerScored,
            body: try event.encodedBody()
        )
    }

    static func complaint(_ id: String, customer: String, receivedAt: Date = Date()) throws -> OutboundMessage {
        let event = ComplaintSignalEvent(
            complaintID: try Identifier(id),
            customerID: try Identifier(customer),
            tier: .gold,
            severity: .high,
            receivedAt: Timestamp(receivedAt)
        )
        return OutboundMessage(
            exchange: Topology.eventsExchange,
            routingKey: Topology.EventKey.complaintSignal,
            body: try event.encodedBody()
        )
    }

    static func feedback(
        _ alertID: String,
        _ status: AlertFeedback.Status,
        outcome: AlertFeedback.Outcome? = nil,
        churnCause: ChurnCause? = nil,
        at: Date = Date()
    ) throws -> OutboundMessage {
        let feedback = AlertFeedback(
            alertID: try Identifier(alertID),
            status: status,
            outcome: outcome,
            churnType: churnCause.map { $0 == .natural ? .passive : .active },
            churnCause: churnCause,
            at: Timestamp(at),
            agent: "agent-7"
        )
        return OutboundMessage(
            exchange: Topology.alertsExchange,
            routingKey: "alert.v1.feedback",
            body: try feedback.encodedBody()
        )
    }

    // MARK: - What the desks receive

    /// Takes every alert waiting in `alerts.retention.p1..p3`, with the queue it was on.
    static func drainAlerts(
        _ environment: TestEnvironment
    ) async throws -> [(queue: String, alert: RetentionAlert, body: Data)] {
        var result: [(String, RetentionAlert, Data)] = []
        for priority in ["p1", "p2", "p3"] {
            let queue = "alerts.retention.\(priority)"
            let consumer = AMQPConsumer(
                settings: environment.amqp,
                queue: queue,
                prefetch: 500,
                logger: TestServers.logger
            )
            while true {
                let batch = try await consumer.nextBatch(
                    maxCount: 500,
                    wait: .milliseconds(300),
                    linger: .milliseconds(20)
                )
                guard let last = batch.last else { break }
                for message in batch {
                    result.append((queue, try RetentionAlert.decode(body: message.body), message.body))
                }
                try await consumer.acknowledge(upTo: last)
            }
            await consumer.close()
        }
        return result
    }

    /// The stored alerts: customer, reasons, priority, delivery and status.
    static func storedAlerts(
        _ environment: TestEnvironment
    ) async throws
        -> [(id: String, customer: String, reasons: [String], priority: String, delivery: String, status: String)]
    {
        try await environment.pool.query(
            """
            SELECT alert_id::text, customer_id, array_to_string(reasons, ','), priority, delivery, status
            FROM retention_alerts ORDER BY raised_at, customer_id
            """
        ).map { row in
            (
                try row.decode(0), try row.decode(1),
                (try row.decode(2, as: String.self)).split(separator: ",").map(String.init),
                try row.decode(3), try row.decode(4), try row.decode(5)
            )
        }
    }
}
