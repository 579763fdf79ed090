import Alerts
import ArgumentParser
import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMRuntime
import CRMSupport
import Complaints
import Foundation
import Intake
import Scoring
import Synchronization
import TestSupport

// Retention-alert latency: from an order or a complaint that triggers an alert to the alert on its desk queue,
// under a steady background load of orders.
//
//   AlertsBenchmark [SECONDS] [RATE]     defaults: 30 s of triggers at 1,000 background orders/s
//   AlertsBenchmark outcomes [CUSTOMERS] the full rescoring's outcome update on a base (default 1,000,000)
//
// The latency runs twice in one process, alternating: with outcome tracking (accepted orders reach crm-alerts and
// judge their customers' alerts again, as deployed) and without (the binding of alerts.events to order.accepted
// removed), so the cost of tracking is read from one run on one machine state.
//
// All four services run in-process with their production parts, each with its own connections, as four processes
// would: crm-intake, crm-scoring (incremental scoring, outbox relay), crm-complaints and crm-alerts. The base:
// 4,000 ordinary customers with a year of purchases and 2 × 400 valuable ones (one large repeat purchase each),
// fully rescored before the run, so the valuable ones are gold and the alerts service has evaluated everyone.
// Tiers rank realised value (CRM_SCORING_TIER_BASIS=historical): the model's predicted value ignores refunds.
// Then, every 10 ms, 10 purchases of random ordinary customers go to crm.orders (the background), and 4 times a
// second a trigger, alternately:
//   order     — a refund of a valuable customer's large purchase: intake → order.accepted → incremental scoring
//               (tier falls from gold) → customer.scored → alerts → `tier_downgrade` on alerts.retention.pN;
//   complaint — a complaint from another valuable customer: complaints → complaint.signal → alerts →
//               `complaint_valuable_customer`.
// A probe queue bound to crm.alerts with `retention.*` receives each alert in the broker operation that puts it on
// its desk queue; arrival time less the trigger's publish time is the latency. A second probe on crm.events times
// the internal events between the services, so each leg of the path can be told apart. Run with scripts/bench.sh.

struct Plan: Sendable {
    var seconds: Int
    var rate: Int
    /// Seconds of background load before the first trigger.
    var warmup = 5
    /// Milliseconds between background publishes, and between triggers.
    var tick = 10
    var triggerEvery = 250
    var ordinary = 4_000
    var valuable = 400

    var perTick: Int { max(rate * tick / 1000, 1) }
}

/// The command line, `[SECONDS] [RATE]` (``LoadArguments``).
struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "AlertsBenchmark",
        abstract: "Retention-alert latency: from a triggering order or complaint to the alert on its desk queue.",
        discussion: """
            By default 30 s of triggers at 1,000 background orders/s. `AlertsBenchmark outcomes [CUSTOMERS]` measures \
            the full rescoring's outcome update on a base instead (default 1,000,000 customers).
            """
    )

    @OptionGroup var load: LoadArguments

    var plan: Plan { Plan(seconds: load.seconds ?? 30, rate: load.rate ?? 1000) }
}

/// `outcomes [CUSTOMERS]`: the full rescoring's outcome update on a base of that many customers.
struct OutcomesOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "AlertsBenchmark outcomes",
        abstract: "The full rescoring's outcome update of retention alerts on a scored base."
    )

    @Argument(help: "Customers in the base.")
    var customers = 1_000_000

    func validate() throws {
        guard customers > 0 else { throw ValidationError("CUSTOMERS needs a positive number, not \(customers)") }
    }
}

/// Trigger publish times by customer, the first internal event seen for each after it, and the latencies, by
/// trigger kind and leg.
final class Measurements: Sendable {
    private struct State {
        var sent: [String: ContinuousClock.Instant] = [:]
        var marks: [String: [String: ContinuousClock.Instant]] = [:]
        var triggered: [String: Int] = [:]
        /// Milliseconds by kind, then by leg (`total`, or the internal event's name: time from the trigger to it).
        var latencies: [String: [String: [Double]]] = [:]
    }
    private let state = Mutex(State())

    func sent(_ customer: String, kind: String, at instant: ContinuousClock.Instant) {
        state.withLock {
            $0.sent[customer] = instant
            $0.triggered[kind, default: 0] += 1
        }
    }

    /// An internal event (`order.accepted`, `customer.scored`, `complaint.signal`) of a triggered customer, first only.
    func mark(_ customer: String, event: String, at instant: ContinuousClock.Instant) {
        state.withLock { state in
            guard state.sent[customer] != nil, state.marks[customer]?[event] == nil else { return }
            state.marks[customer, default: [:]][event] = instant
        }
    }

    /// Records an alert's arrival for a triggered customer, once.
    func arrived(_ customer: String, kind: String, at instant: ContinuousClock.Instant) {
        state.withLock { state in
            guard let sent = state.sent.removeValue(forKey: customer) else { return }
            state.latencies[kind, default: [:]]["total", default: []].append((instant - sent).seconds * 1000)
            for (event, time) in state.marks.removeValue(forKey: customer) ?? [:] {
                state.latencies[kind, default: [:]][event, default: []].append((time - sent).seconds * 1000)
            }
        }
    }

    var pending: Int { state.withLock { $0.sent.count } }
    var latencies: [String: [String: [Double]]] { state.withLock { $0.latencies } }
    var triggered: [String: Int] { state.withLock { $0.triggered } }
}

func json(_ object: [String: Any]) -> Data {
    (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
}

/// Ordinary customers `BG-n`: 2 to 9 purchases over the past 300 days. Valuable `T-n` (refund triggers) and `CT-n`
/// (complaint triggers): 30, 2,000 (`<id>-big`, a repeat purchase), 30 and 30 over 200 days.
func seed(_ pool: PostgresPool, _ plan: Plan) async throws {
    try await pool.execute(
        """
        INSERT INTO customers (customer_id)
        SELECT 'BG-' || n FROM generate_series(0, $1 - 1) n
        UNION ALL SELECT p || n FROM generate_series(0, $2 - 1) n, (VALUES ('T-'), ('CT-')) AS v(p)
        """,
        [plan.ordinary, plan.valuable]
    )
    try await pool.execute(
        """
        INSERT INTO orders (order_id, customer_id, kind, occurred_at, amount, currency, amount_base, channel, content_hash)
        SELECT 'BG-' || n || '-' || k, 'BG-' || n, 'purchase', now() - make_interval(days => 300 - k * 30 - n % 25),
               a, 'USD', a, 'bench', md5('BG-' || n || '-' || k)
        FROM generate_series(0, $1 - 1) n, generate_series(0, 8) k, LATERAL (SELECT 20 + (n * 37 + k * 11) % 200 AS a) x
        WHERE k < 2 + n % 8
        """,
        [plan.ordinary]
    )
    try await pool.execute(
        """
        INSERT INTO orders (order_id, customer_id, kind, occurred_at, amount, currency, amount_base, channel, content_hash)
        SELECT c || suffix, c, 'purchase', now() - make_interval(days => d), a, 'USD', a, 'bench', md5(c || suffix)
        FROM (SELECT p || n AS c FROM generate_series(0, $1 - 1) n, (VALUES ('T-'), ('CT-')) AS v(p)) cs,
             (VALUES ('-1', 200, 30), ('-big', 150, 2000), ('-3', 100, 30), ('-4', 30, 30)) AS o(suffix, d, a)
        """,
        [plan.valuable]
    )
}

let probe = Topology(
    exchanges: [Topology.Exchange(Topology.alertsExchange), Topology.Exchange(Topology.eventsExchange)],
    queues: [
        Topology.Queue("bench.alerts", bindings: [.init(Topology.alertsExchange, "retention.*")], deadLettered: false),
        Topology.Queue("bench.events", bindings: [.init(Topology.eventsExchange, "#")], deadLettered: false),
    ]
)

func measure(_ plan: Plan, outcomeTracking: Bool) async throws -> (Measurements, orders: Int, stored: Int) {
    try await TestServers.withEnvironment { environment in
        try await seed(environment.pool, plan)
        var variables = environment.serviceVariables
        variables["CRM_LOG_LEVEL"] = "error"
        variables["CRM_RETENTION_PLAYBOOK_FILE"] = "deploy/retention-playbook.json"
        variables["CRM_COMPLAINT_RULES_FILE"] = "deploy/complaint-rules.json"
        variables["CRM_ALERTS_DAILY_CAP_P2"] = "0"
        variables["CRM_ALERTS_DAILY_CAP_P3"] = "0"
        variables["CRM_SCORING_RESCORE_INTERVAL"] = "24h"
        // Tiers by realised value: a refund lowers it at once, while the model's predicted value, whose spend
        // model sees purchases only, keeps a refunded purchase.
        variables["CRM_SCORING_TIER_BASIS"] = "historical"
        let settings = Settings(variables)
        let rescoring = try await FullRescoring(
            pool: environment.pool,
            outbox: Outbox(of: .scoring),
            settings: try ScoringConfiguration(settings),
            logger: TestServers.logger
        ).run()
        let gold = Set(
            try await environment.pool.query(
                "SELECT customer_id FROM customer_scores WHERE tier = 'gold' AND customer_id !~ '^BG-'"
            ).map { try $0.decode(0, as: String.self) }
        )
        print("base: \(rescoring.customers) customers scored, \(gold.count) of \(2 * plan.valuable) valuable ones gold")

        func context(_ name: String, _ topology: Topology) throws -> ServiceContext {
            try ServiceHost.makeContext(name: name, settings: settings, topology: topology)
        }
        let intake = try context("crm-intake", IntakeService.topology)
        let scoring = try context("crm-scoring", ScoringService.topology)
        let alerts = try context("crm-alerts", AlertsService.topology)
        let complaints = try context("crm-complaints", ComplaintsService.topology)
        var services = try await IntakeService.parts(intake).services + ScoringService.parts(scoring).services
        services += try await AlertsService.parts(alerts).services + ComplaintsService.parts(complaints).services
        let desks = try await ComplaintPolicyHolder.load(
            pool: complaints.pool,
            configuration: try ComplaintsConfiguration(settings: settings)
        ).current.policy.router.desks.map(\.name)

        let publisher = AMQPPublisher(
            settings: environment.amqp,
            name: "bench",
            // What `crm migrate` declares (the services only check it), and the probe's queue.
            topology: Topology.system(desks: desks).merging(probe),
            logger: TestServers.logger
        )
        try await publisher.connect()
        let consumer = AMQPConsumer(
            settings: environment.amqp,
            queue: "bench.alerts",
            prefetch: 1000,
            topology: probe,
            logger: TestServers.logger
        )
        let measurements = Measurements()
        let triggerCustomers = (0..<plan.valuable).flatMap { ["T-\($0)", "CT-\($0)"] }.filter(gold.contains)

        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services { group.addTask { try await service.run() } }
            group.addTask {
                // Alerts reached by every customer of the initial rescoring: the system is warm.
                while try await environment.pool.query("SELECT count(*) FROM alert_customer_state")[0]
                    .decode(0, as: Int.self) < rescoring.customers
                {
                    try await Task.sleep(for: .milliseconds(200))
                }
                if !outcomeTracking {
                    // Without outcome tracking: accepted orders no longer reach crm-alerts.
                    try await ManagementAPI.request(
                        "DELETE",
                        "/api/bindings/\(environment.virtualHost.name)/e/\(Topology.eventsExchange)/q/"
                            + "\(Topology.alertEventsQueue)/\(Topology.EventKey.orderAccepted)"
                    )
                }
                let start = ContinuousClock.now
                let end = start + .seconds(plan.warmup + plan.seconds)
                var sequence = 0
                var nextTrigger = start + .seconds(plan.warmup)
                var triggers = triggerCustomers.makeIterator()
                var step = 0
                while ContinuousClock.now < end {
                    try await Task.sleep(until: start + .milliseconds(step * plan.tick), clock: .continuous)
                    step += 1
                    var messages = (0..<plan.perTick).map { _ -> OutboundMessage in
                        sequence += 1
                        let body = json([
                            "schema": "order.v1", "order_id": "L-\(sequence)",
                            "customer_id": "BG-\(Int.random(in: 0..<plan.ordinary))",
                            "occurred_at": Timestamp(Date()).rfc3339, "amount": "25.00", "currency": "USD",
                        ])
                        return OutboundMessage(exchange: Topology.ordersExchange, routingKey: "order.v1", body: body)
                    }
                    var trigger: String?
                    if ContinuousClock.now >= nextTrigger, let customer = triggers.next() {
                        nextTrigger = nextTrigger + .milliseconds(plan.triggerEvery)
                        trigger = customer
                        if customer.hasPrefix("T-") {
                            messages.append(
                                OutboundMessage(
                                    exchange: Topology.ordersExchange,
                                    routingKey: "order.v1",
                                    body: json([
                                        "schema": "order.v1", "order_id": "R-\(customer)", "customer_id": customer,
                                        "occurred_at": Timestamp(Date()).rfc3339, "kind": "refund", "amount": "2000.00",
                                        "currency": "USD", "original_order_id": "\(customer)-big",
                                    ])
                                )
                            )
                        } else {
                            messages.append(
                                OutboundMessage(
                                    exchange: Topology.complaintsExchange,
                                    routingKey: "complaint.v1.new",
                                    body: json([
                                        "schema": "complaint.v1", "complaint_id": "K-\(customer)",
                                        "customer_id": customer,
                                        "received_at": Timestamp(Date()).rfc3339, "channel": "email",
                                        "subject": "Parcel never arrived",
                                        "body": "I ordered two weeks ago and the parcel never arrived.",
                                        "language": "en",
                                    ])
                                )
                            )
                        }
                    }
                    let now = ContinuousClock.now
                    if let trigger {
                        measurements.sent(trigger, kind: trigger.hasPrefix("T-") ? "order" : "complaint", at: now)
                    }
                    try await publisher.publish(messages)
                }
                // The last triggers' alerts, if they come.
                let deadline = ContinuousClock.now + .seconds(30)
                while measurements.pending > 0 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                throw CancellationError()
            }
            group.addTask {
                while !Task.isCancelled {
                    let batch = try await consumer.nextBatch(maxCount: 500, wait: .milliseconds(500), linger: .zero)
                    guard let last = batch.last else { continue }
                    let arrived = ContinuousClock.now
                    for message in batch {
                        guard let alert = try? RetentionAlert.decode(body: message.body) else { continue }
                        let customer = alert.customerID.rawValue
                        if customer.hasPrefix("T-"), alert.reasons.contains(.tierDowngrade) {
                            measurements.arrived(customer, kind: "order", at: arrived)
                        } else if customer.hasPrefix("CT-"), alert.reasons.contains(.complaintValuableCustomer) {
                            measurements.arrived(customer, kind: "complaint", at: arrived)
                        }
                    }
                    try await consumer.acknowledge(upTo: last)
                }
            }
            group.addTask {
                // The internal events of triggered customers, to split the latency by service.
                let events = AMQPConsumer(
                    settings: environment.amqp,
                    queue: "bench.events",
                    prefetch: 2000,
                    topology: probe,
                    logger: TestServers.logger
                )
                while !Task.isCancelled {
                    let batch = try await events.nextBatch(maxCount: 1000, wait: .milliseconds(500), linger: .zero)
                    guard let last = batch.last else { continue }
                    let arrived = ContinuousClock.now
                    for message in batch {
                        guard let object = try? JSONSerialization.jsonObject(with: message.body) as? [String: Any]
                        else { continue }
                        // order.accepted.v2 names many customers; the other events one.
                        let entries = object["customers"] as? [[String: Any]] ?? [object]
                        for case let customer as String in entries.map({ $0["customer_id"] })
                        where !customer.hasPrefix("BG-") {
                            measurements.mark(customer, event: message.routingKey, at: arrived)
                        }
                    }
                    try await events.acknowledge(upTo: last)
                }
                await events.close()
            }
            do {
                try await group.next()
            } catch is CancellationError {}
            group.cancelAll()
        }
        let orders = try await environment.pool.query("SELECT count(*) FROM orders WHERE order_id LIKE 'L-%'")[0]
            .decode(0, as: Int.self)
        let stored = try await environment.pool.query("SELECT count(*) FROM retention_alerts")[0].decode(
            0,
            as: Int.self
        )
        let refunds = try await environment.pool.query(
            """
            SELECT count(*), count(*) FILTER (WHERE s.tier <> 'gold'), count(*) FILTER (WHERE st.tier <> 'gold'),
                   string_agg(DISTINCT s.tier || '/' || s.lifecycle_stage || '/' || round(s.clv_predicted) , ' ')
            FROM orders o JOIN customer_scores s USING (customer_id) LEFT JOIN alert_customer_state st USING (customer_id)
            WHERE o.order_id LIKE 'R-T-%'
            """
        )[0]
        print(
            "refunds stored: \(try refunds.decode(0, as: Int.self)), scored below gold: \(try refunds.decode(1, as: Int.self)), "
                + "evaluated below gold: \(try refunds.decode(2, as: Int.self)); \(refunds[3] ?? "")"
        )
        await consumer.close()
        await publisher.close()
        for context in [intake, scoring, alerts, complaints] {
            await context.publisher.close()
            await context.pool.close()
        }
        return (measurements, orders, stored)
    }
}

/// The full rescoring's outcome update on `customers` customers with three purchases each and an alert for one in
/// ten (as of 200 to 319 days ago), judged as of now with the default 90-day window: every alert is judged and
/// written on the first pass; on the second (a day later) every window has passed, so nothing is left to judge.
func measureOutcomeUpdate(customers: Int) async throws {
    try await TestServers.withEnvironment { environment in
        let pool = environment.pool
        var clock = ContinuousClock.now
        try await pool.execute(
            "INSERT INTO customers (customer_id) SELECT 'OC-' || n FROM generate_series(0, $1 - 1) n",
            [customers]
        )
        try await pool.execute(
            """
            INSERT INTO orders (order_id, customer_id, kind, occurred_at, amount, currency, amount_base, channel,
                content_hash)
            SELECT 'OC-' || n || '-' || k, 'OC-' || n, 'purchase',
                   now() - make_interval(days => 400 - k * 110 - n % 60), a, 'USD', a, 'bench', md5(n || '-' || k)
            FROM generate_series(0, $1 - 1) n, generate_series(0, 2) k, LATERAL (SELECT 20 + (n * 37 + k * 11) % 200 AS a) x
            """,
            [customers]
        )
        try await pool.execute(
            """
            INSERT INTO retention_alerts (alert_id, customer_id, raised_at, scored_at, priority, reasons, value_at_risk,
                tier, lifecycle_stage, suggested_action, evidence, body, delivery, alert_group, as_of, outcome_as_of)
            SELECT gen_random_uuid(), 'OC-' || n, t, t, 'p2', ARRAY['overdue_purchase'], 500, 'gold', 'decline', 'call',
                   '[]', '{}', CASE WHEN n % 100 < 10 THEN 'control' ELSE 'queued' END,
                   CASE WHEN n % 100 < 10 THEN 'control' ELSE 'alerted' END, t, t
            FROM generate_series(0, $1 - 1, 10) n, LATERAL (SELECT now() - make_interval(days => 200 + n % 120) AS t) x
            """,
            [customers]
        )
        for table in ["customers", "orders", "retention_alerts"] { try await pool.execute("ANALYZE \(table)") }
        let alerts = try await pool.query("SELECT count(*) FROM retention_alerts")[0].decode(0, as: Int.self)
        let orders = try await pool.query("SELECT count(*) FROM orders")[0].decode(0, as: Int.self)
        print(
            "outcomes: \(customers) customers, \(orders) orders, \(alerts) alerts seeded in "
                + String(format: "%.1f s", (ContinuousClock.now - clock).seconds)
        )
        let tracker = OutcomeTracker(window: .seconds(90 * 86_400))
        for (pass, asOf) in [
            ("first (every alert judged anew)", Date()),
            ("the next rescoring (windows passed: nothing left to judge)", Date().addingTimeInterval(86_400)),
        ] {
            clock = ContinuousClock.now
            let changed = try await tracker.judgeAll(asOf: asOf, pool: pool)
            let seconds = (ContinuousClock.now - clock).seconds
            print(String(format: "outcome update, %@: %d alerts changed in %.2f s", pass, changed, seconds))
            print(
                "RESULT | full rescoring's outcome update, \(customers) customers, \(alerts) alerts, \(pass) | "
                    + String(format: "%.2f s", seconds) + " | < 5 s |"
            )
        }
        let outcomes = try await pool.query(
            "SELECT observed_outcome, count(*) FROM retention_alerts GROUP BY 1 ORDER BY 1"
        ).map { "\(try $0.decode(0, as: String.self)) \(try $0.decode(1, as: Int.self))" }
        print("outcomes: \(outcomes.joined(separator: ", "))")
    }
}

if CommandLine.arguments.dropFirst().first == "outcomes" {
    let customers = OutcomesOptions.parseOrExit(Array(CommandLine.arguments.dropFirst(2))).customers
    try await measureOutcomeUpdate(customers: customers)
    exit(0)
}

let plan = Options.parseOrExit().plan
print(
    "alerts: \(plan.seconds) s of triggers every \(plan.triggerEvery) ms under \(plan.rate) orders/s "
        + "(after \(plan.warmup) s of background alone), with and without outcome tracking, twice each"
)
var orderP99: [Bool: [Double]] = [:]
for tracking in [true, false, true, false] {
    let label = tracking ? "with outcome tracking" : "without outcome tracking"
    print("— \(label)")
    let (measurements, orders, stored) = try await measure(plan, outcomeTracking: tracking)
    let triggered = measurements.triggered
    print("background orders stored by intake: \(orders); retention alerts stored: \(stored)")
    let latencies = measurements.latencies
    let paths: [(kind: String, path: String, legs: [String])] = [
        ("order", "order → alert (refund, via intake and scoring)", ["order.accepted", "customer.scored"]),
        ("complaint", "complaint → alert (via complaints)", ["complaint.signal"]),
    ]
    for (kind, path, legs) in paths {
        let sorted = (latencies[kind]?["total"] ?? []).sorted()
        if kind == "order" { orderP99[tracking, default: []].append(SampleStatistics.percentile(sorted, 0.99)) }
        let sent = triggered[kind] ?? 0
        let line = String(
            format: "p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d of %d triggers alerted)",
            SampleStatistics.percentile(sorted, 0.5),
            SampleStatistics.percentile(sorted, 0.99),
            sorted.last ?? .nan,
            sorted.count,
            sent
        )
        let split = legs.map { leg in
            let times = (latencies[kind]?[leg] ?? []).sorted()
            return String(
                format: "%@ at p50 %.0f / p99 %.0f ms",
                leg,
                SampleStatistics.percentile(times, 0.5),
                SampleStatistics.percentile(times, 0.99)
            )
        }.joined(separator: ", ")
        print("\(path): \(line); \(split)")
        print("RESULT | \(path), under \(plan.rate) orders/s, \(label) | \(line) | p99 < 250 ms |")
    }
}
let with = orderP99[true] ?? []
let without = orderP99[false] ?? []
let ratio = with.reduce(0, +) / max(without.reduce(0, +), 1e-9)
print(
    "order → alert p99 with outcome tracking \(with.map { String(format: "%.0f", $0) }.joined(separator: ", ")) ms, "
        + "without \(without.map { String(format: "%.0f", $0) }.joined(separator: ", ")) ms: "
        + String(format: "%+.1f%%", (ratio - 1) * 100)
)
print(
    "RESULT | order → alert p99, outcome tracking against none (mean of two runs each) | "
        + String(format: "%+.1f%%", (ratio - 1) * 100) + " | ≤ +10% |"
)
