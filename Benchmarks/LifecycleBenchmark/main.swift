import ArgumentParser
import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMRuntime
import CRMSupport
import Foundation
import Intake
import Scoring
import Synchronization
import TestSupport

// Lifecycle-event latency: from an order that changes a customer's stage to its `customer-lifecycle.v1` on
// crm.lifecycle, under a steady background load of orders.
//
//   LifecycleBenchmark [SECONDS] [RATE]     defaults: 30 s of triggers at 1,000 background orders/s
//
// crm-intake and crm-scoring run in-process with their production parts, each with its own connections, as two
// processes would (incremental scoring, the purchase-due sweep, the outbox relays). The base: 4,000 ordinary
// customers with a year of purchases and 600 registered customers without any (customer.v1, stored by intake),
// fully rescored before the run, so the registered ones stand at `potential` and are announced as such. Then,
// every 10 ms, 10 purchases of random ordinary customers go to crm.orders (the background; some of them move a
// stage and are announced too), and every 100 ms a trigger: the first purchase of a registered customer, which
// moves it from potential to development: intake → order.accepted → incremental scoring (the stage change and its
// event in one transaction) → scoring's relay → crm.lifecycle. A probe queue bound to crm.lifecycle with
// `lifecycle.#` receives each event in the broker operation that routes it; arrival less the order's publish time
// is the latency. A second probe on crm.events times `order.accepted`, to tell intake's leg from scoring's.
// Run with scripts/bench.sh.

struct Plan: Sendable {
    var seconds: Int
    var rate: Int
    /// Seconds of background load before the first trigger.
    var warmup = 5
    /// Milliseconds between background publishes.
    var tick = 10
    var triggerEvery = 100
    var ordinary = 4_000
    var registered = 600

    var perTick: Int { max(rate * tick / 1000, 1) }
}

/// The command line, `[SECONDS] [RATE]` (``LoadArguments``).
struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "LifecycleBenchmark",
        abstract: "Lifecycle-event latency: from an order that changes a stage to its event on crm.lifecycle.",
        discussion: """
            By default 30 s of triggers at 1,000 background orders/s.
            """
    )

    @OptionGroup var load: LoadArguments

    var plan: Plan { Plan(seconds: load.seconds ?? 30, rate: load.rate ?? 1000) }
}

/// Trigger publish times by customer, the `order.accepted` seen for each, and the latencies by leg.
final class Measurements: Sendable {
    private struct State {
        var sent: [String: ContinuousClock.Instant] = [:]
        var accepted: [String: ContinuousClock.Instant] = [:]
        var scored: [String: ContinuousClock.Instant] = [:]
        var scoring: [Double] = []
        var triggered = 0
        var total: [Double] = []
        var intake: [Double] = []
        var wrong: [String] = []
        var events = 0
    }
    private let state = Mutex(State())

    func sent(_ customer: String, at instant: ContinuousClock.Instant) {
        state.withLock {
            $0.sent[customer] = instant
            $0.triggered += 1
        }
    }

    func accepted(_ customer: String, at instant: ContinuousClock.Instant) {
        state.withLock { state in
            guard state.sent[customer] != nil, state.accepted[customer] == nil else { return }
            state.accepted[customer] = instant
        }
    }

    /// The `customer.scored` of a triggered customer: the same scoring transaction's other event, for comparison.
    func scored(_ customer: String, at instant: ContinuousClock.Instant) {
        state.withLock { state in
            guard let sent = state.sent[customer], state.scored[customer] == nil else { return }
            state.scored[customer] = instant
            state.scoring.append((instant - sent).seconds * 1000)
        }
    }

    /// The first lifecycle event of a triggered customer; its stages are checked.
    func arrived(_ event: CustomerLifecycleEvent, at instant: ContinuousClock.Instant) {
        state.withLock { state in
            let customer = event.customerID.rawValue
            guard let sent = state.sent.removeValue(forKey: customer) else { return }
            if event.stage != .development || event.previousStage != .potential {
                state.wrong.append("\(customer): \(event.previousStage?.rawValue ?? "-") → \(event.stage.rawValue)")
            }
            state.total.append((instant - sent).seconds * 1000)
            if let accepted = state.accepted.removeValue(forKey: customer) {
                state.intake.append((accepted - sent).seconds * 1000)
            }
        }
    }

    /// Counts lifecycle events received, of any customer.
    func received(_ count: Int) {
        state.withLock { $0.events += count }
    }

    var events: Int { state.withLock { $0.events } }
    var pending: Int { state.withLock { $0.sent.count } }
    var figures: (triggered: Int, total: [Double], intake: [Double], scored: [Double], wrong: [String]) {
        state.withLock { ($0.triggered, $0.total.sorted(), $0.intake.sorted(), $0.scoring.sorted(), $0.wrong) }
    }
}

func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(Int((Double(sorted.count) * fraction).rounded(.up)) - 1, sorted.count - 1)]
}

func json(_ object: [String: Any]) -> Data {
    (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
}

/// Ordinary customers `BG-n`: 2 to 9 purchases over the past 300 days, stored as intake stores them.
func seed(_ pool: PostgresPool, _ plan: Plan) async throws {
    try await pool.execute(
        "INSERT INTO customers (customer_id) SELECT 'BG-' || n FROM generate_series(0, $1 - 1) n",
        [plan.ordinary]
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
}

let probe = Topology(
    exchanges: [Topology.Exchange(Topology.lifecycleExchange), Topology.Exchange(Topology.eventsExchange)],
    queues: [
        Topology.Queue(
            "bench.lifecycle",
            bindings: [.init(Topology.lifecycleExchange, "lifecycle.#")],
            deadLettered: false
        ),
        Topology.Queue(
            "bench.events",
            bindings: [
                .init(Topology.eventsExchange, "order.accepted"), .init(Topology.eventsExchange, "customer.scored"),
            ],
            deadLettered: false
        ),
    ]
)

func measure(_ plan: Plan) async throws -> (Measurements, orders: Int, events: Int) {
    try await TestServers.withEnvironment { environment in
        try await seed(environment.pool, plan)
        // The registered customers, through intake's own handler: stored as customer.v1 stores them.
        let registrations = (0..<plan.registered).map { n in
            InboundMessage(
                body: json([
                    "schema": "customer.v1", "customer_id": "P-\(n)", "channel": "web",
                    "registered_at": Timestamp(Date().addingTimeInterval(-86_400)).rfc3339,
                ])
            )
        }
        _ = try await CustomerIntakeHandler(pool: environment.pool, outbox: Outbox(source: "intake")).handle(
            registrations
        )
        try await environment.pool.execute("DELETE FROM crm_outbox")
        var variables = environment.serviceVariables
        variables["CRM_LOG_LEVEL"] = "error"
        variables["CRM_SCORING_RESCORE_INTERVAL"] = "24h"
        let settings = Settings(variables)
        let rescoring = try await FullRescoring(
            pool: environment.pool,
            outbox: Outbox(of: .scoring),
            settings: try ScoringConfiguration(settings),
            logger: TestServers.logger
        ).run()
        let potential = try await environment.pool.query(
            "SELECT count(*) FROM customer_scores WHERE lifecycle_stage = 'potential' AND announced_stage = 'potential'"
        )[0].decode(0, as: Int.self)
        print("base: \(rescoring.customers) customers scored, \(potential) registered ones potential and announced")
        try await environment.pool.execute("DELETE FROM crm_outbox")

        func context(_ name: String, _ topology: Topology) throws -> ServiceContext {
            try ServiceHost.makeContext(name: name, settings: settings, topology: topology)
        }
        let intake = try context("crm-intake", IntakeService.topology)
        let scoring = try context("crm-scoring", ScoringService.topology)
        let services = try await IntakeService.parts(intake).services + ScoringService.parts(scoring).services

        let publisher = AMQPPublisher(
            settings: environment.amqp,
            name: "bench",
            // What `crm migrate` declares (the services only check it), and the probe's queues.
            topology: Topology.system(desks: []).merging(probe),
            logger: TestServers.logger
        )
        try await publisher.connect()
        let measurements = Measurements()

        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services { group.addTask { try await service.run() } }
            group.addTask {
                let start = ContinuousClock.now
                let end = start + .seconds(plan.warmup + plan.seconds)
                var sequence = 0
                var nextTrigger = start + .seconds(plan.warmup)
                var triggers = (0..<plan.registered).map { "P-\($0)" }.makeIterator()
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
                        messages.append(
                            OutboundMessage(
                                exchange: Topology.ordersExchange,
                                routingKey: "order.v1",
                                body: json([
                                    "schema": "order.v1", "order_id": "F-\(customer)", "customer_id": customer,
                                    "occurred_at": Timestamp(Date()).rfc3339, "amount": "40.00", "currency": "USD",
                                ])
                            )
                        )
                    }
                    if let trigger { measurements.sent(trigger, at: ContinuousClock.now) }
                    try await publisher.publish(messages)
                }
                // The last triggers' events, if they come.
                let deadline = ContinuousClock.now + .seconds(30)
                while measurements.pending > 0 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                throw CancellationError()
            }
            group.addTask {
                let consumer = AMQPConsumer(
                    settings: environment.amqp,
                    queue: "bench.lifecycle",
                    prefetch: 2000,
                    topology: probe,
                    logger: TestServers.logger
                )
                while !Task.isCancelled {
                    let batch = try await consumer.nextBatch(maxCount: 1000, wait: .milliseconds(500), linger: .zero)
                    guard let last = batch.last else { continue }
                    let arrived = ContinuousClock.now
                    measurements.received(batch.count)
                    for message in batch {
                        guard let event = try? CustomerLifecycleEvent.decode(body: message.body) else { continue }
                        measurements.arrived(event, at: arrived)
                    }
                    try await consumer.acknowledge(upTo: last)
                }
                await consumer.close()
            }
            group.addTask {
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
                        let entries = object["customers"] as? [[String: Any]] ?? [object]
                        for case let customer as String in entries.map({ $0["customer_id"] })
                        where customer.hasPrefix("P-") {
                            if message.routingKey == Topology.EventKey.customerScored {
                                measurements.scored(customer, at: arrived)
                            } else {
                                measurements.accepted(customer, at: arrived)
                            }
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
        await publisher.close()
        for context in [intake, scoring] {
            await context.publisher.close()
            await context.pool.close()
        }
        return (measurements, orders, measurements.events)
    }
}

let plan = Options.parseOrExit().plan
print(
    "lifecycle: \(plan.seconds) s of first purchases every \(plan.triggerEvery) ms under \(plan.rate) orders/s "
        + "(after \(plan.warmup) s of background alone)"
)
let (measurements, orders, events) = try await measure(plan)
let figures = measurements.figures
print("background orders stored by intake: \(orders); lifecycle events received: \(events)")
if !figures.wrong.isEmpty { print("unexpected stages: \(figures.wrong.prefix(5).joined(separator: "; "))") }
let line = String(
    format: "p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d of %d triggers announced)",
    percentile(figures.total, 0.5),
    percentile(figures.total, 0.99),
    figures.total.last ?? .nan,
    figures.total.count,
    figures.triggered
)
let intakeLeg = String(
    format: "order.accepted at p50 %.0f / p99 %.0f ms, customer.scored (same transaction) at p50 %.0f / p99 %.0f ms",
    percentile(figures.intake, 0.5),
    percentile(figures.intake, 0.99),
    percentile(figures.scored, 0.5),
    percentile(figures.scored, 0.99)
)
print("order → lifecycle event (potential → development): \(line); \(intakeLeg)")
print(
    "RESULT | order → lifecycle event (potential → development), under \(plan.rate) orders/s | \(line) | p99 < 100 ms |"
)
