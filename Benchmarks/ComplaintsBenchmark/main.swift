import ArgumentParser
import CRMAMQP
import CRMContract
import CRMRuntime
import CRMSupport
import Complaints
import Foundation
import Synchronization
import TestSupport

// Complaint latency: published to crm.complaints → routed message on its desk queue, at a steady rate.
//
//   ComplaintsBenchmark [SECONDS] [RATE]     defaults: 20 s at 1,000 complaints/s, the first 2 s not counted
//
// crm-complaints runs in-process with its production parts (consumers, outbox relay, sweeper, rules watcher) and the
// shipped rules. A publisher sends English and Chinese complaints of every category every 10 ms, from a mix of gold,
// silver and bronze customers and customers never seen, each batch with publisher confirms; the send time is taken
// just before the publish. A probe queue bound to crm.desks with `desk.*` receives every routed message in the same
// broker operation that puts it on its desk's queue; its arrival time, less the send time, is the latency.
// Run with scripts/bench.sh (release build, servers from scripts/servers.sh).

/// What one run publishes.
struct Plan: Sendable {
    var seconds: Int
    var rate: Int
    /// Seconds at the start that are published but not counted.
    var warmup = 2
    /// Milliseconds between publishes.
    var tick = 10

    var total: Int { seconds * rate }
    var perTick: Int { max(rate * tick / 1000, 1) }
}

/// The command line, `[SECONDS] [RATE]` (``LoadArguments``).
struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ComplaintsBenchmark",
        abstract: "Complaint routing latency: from publish to the desk queue, under a steady stream of complaints.",
        discussion: """
            By default 20 s at 1,000 complaints/s, the first 2 s not counted.
            """
    )

    @OptionGroup var load: LoadArguments

    var plan: Plan { Plan(seconds: load.seconds ?? 20, rate: load.rate ?? 1000) }
}

/// When each complaint was published, by index, shared by the publishing and the receiving task.
final class SendTimes: Sendable {
    private let times: Mutex<[ContinuousClock.Instant?]>

    init(count: Int) {
        times = Mutex([ContinuousClock.Instant?](repeating: nil, count: count))
    }

    func record(_ range: Range<Int>, at instant: ContinuousClock.Instant) {
        times.withLock { for index in range { $0[index] = instant } }
    }

    func lookup(_ indices: [Int]) -> [ContinuousClock.Instant?] {
        times.withLock { times in indices.map { $0 < times.count ? times[$0] : nil } }
    }
}

let texts: [(subject: String, body: String, language: String)] = [
    (
        "Parcel never arrived",
        "I ordered two weeks ago and the parcel never arrived; the tracking number shows nothing.", "en"
    ),
    ("快递还没到", "我的包裹已经等了10天还没到，物流信息一直没有更新。", "zh-CN"),
    ("Charged twice", "You charged me twice for the same order. I want a refund.", "en"),
    ("重复扣款", "同一个订单被扣了两次钱，请尽快退款。", "zh-CN"),
    ("Cracked screen", "The phone came with a cracked screen and does not work at all.", "en"),
    ("质量问题", "收到的商品屏幕碎了，根本不能用。", "zh-CN"),
    ("Rude agent", "The agent on the phone was rude and hung up on me.", "en"),
    ("客服态度差", "客服态度非常差，说了几句就挂电话。", "zh-CN"),
    ("Cannot sign in", "My account is locked and the password reset never sends a verification code.", "en"),
    ("账号被锁", "我的账号被锁定了，收不到验证码，无法登录。", "zh-CN"),
    ("A suggestion", "It would be nice to have more colours to choose from.", "en"),
    ("Burnt my hand", "The kettle caught fire and burned my hand, I will contact my lawyer.", "en"),
]

@Sendable func complaint(_ index: Int) -> Data {
    let text = texts[index % texts.count]
    // Customers 0..<900 are scored (gold, silver, bronze); the rest have never been seen.
    let customer = "BC-\(index % 1200)"
    let object: [String: Any] = [
        "schema": "complaint.v1", "complaint_id": "B-\(index)", "customer_id": customer,
        "received_at": Timestamp(Date()).rfc3339, "channel": index % 3 == 0 ? "phone" : "email",
        "subject": text.subject, "body": text.body, "language": text.language,
    ]
    return (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
}

let probe: Topology = Topology(
    exchanges: [Topology.Exchange(Topology.desksExchange)],
    queues: [Topology.Queue("bench.routed", bindings: [.init(Topology.desksExchange, "desk.*")], deadLettered: false)]
)

/// Runs the service and the load; returns the counted latencies in milliseconds.
func measure(_ plan: Plan) async throws -> [Double] {
    try await TestServers.withEnvironment { environment in
        try await environment.pool.execute(
            """
            INSERT INTO customers (customer_id, region) SELECT 'BC-' || n, 'east' FROM generate_series(0, 899) n
            """
        )
        try await environment.pool.execute(
            """
            INSERT INTO customer_scores (customer_id, scored_at, orders_count, transactions, monetary_total, monetary_average,
                clv_historical, clv_simple, clv_predicted, lifecycle_stage, lifecycle_rule, tier)
            SELECT 'BC-' || n, now(), 1 + n % 20, 1 + n % 20, 100, 10, 100, 100, 50 + n, 'maturity', 'bench',
                   CASE WHEN n % 5 = 0 THEN 'gold' WHEN n % 5 < 3 THEN 'silver' ELSE 'bronze' END
            FROM generate_series(0, 899) n
            """
        )
        // The service as its executable runs it, with this process's CRM_COMPLAINTS_* settings.
        let settings = Settings(
            ProcessInfo.processInfo.environment.merging(environment.serviceVariables) { _, test in test }.merging(
                ["CRM_COMPLAINT_RULES_FILE": "deploy/complaint-rules.json"]) { current, _ in current }
        )
        let context = try ServiceHost.makeContext(
            name: "crm-complaints",
            settings: settings,
            topology: ComplaintsService.topology
        )
        let parts = try await ComplaintsService.parts(context)
        let desks = try await ComplaintPolicyHolder.load(
            pool: environment.pool,
            configuration: try ComplaintsConfiguration(settings: settings)
        ).current.policy.router.desks.map(\.name)
        let publisher = AMQPPublisher(
            settings: environment.amqp,
            name: "bench",
            // What `crm migrate` declares (the service only checks it): alerts' queue takes the signals.
            topology: ComplaintsService.topology(desks: desks).merging(Topology.alerts).merging(probe),
            logger: TestServers.logger
        )
        try await publisher.connect()
        let consumer = AMQPConsumer(
            settings: environment.amqp,
            queue: "bench.routed",
            prefetch: 1000,
            topology: probe,
            logger: TestServers.logger
        )
        let (total, perTick, tick, counted) = (plan.total, plan.perTick, plan.tick, plan.warmup * plan.rate)
        let sent = SendTimes(count: total)
        let bodies = (0..<total).map(complaint)

        let result = try await withThrowingTaskGroup(of: [Double]?.self) { group in
            for service in parts.services {
                group.addTask {
                    try await service.run()
                    return nil
                }
            }
            group.addTask {
                // Steady publishing: each tick's batch is due at start + k × tick, never bunched up after a slow one.
                let start = ContinuousClock.now
                for (step, first) in stride(from: 0, to: total, by: perTick).enumerated() {
                    try await Task.sleep(until: start + .milliseconds(step * tick), clock: .continuous)
                    let range = first..<min(first + perTick, total)
                    let now = ContinuousClock.now
                    sent.record(range, at: now)
                    try await publisher.publish(
                        range.map {
                            OutboundMessage(
                                exchange: Topology.complaintsExchange,
                                routingKey: "complaint.v1.new",
                                body: bodies[$0]
                            )
                        }
                    )
                }
                return nil
            }
            group.addTask {
                var latencies: [Double] = []
                var received = Set<Int>()
                var duplicates = 0
                defer { if duplicates > 0 { print("duplicates received: \(duplicates)") } }
                while received.count < total {
                    let batch = try await consumer.nextBatch(maxCount: 500, wait: .seconds(30), linger: .zero)
                    guard let last = batch.last else { break }
                    let arrived = ContinuousClock.now
                    try await consumer.acknowledge(upTo: last)
                    let indices = batch.map { message -> Int in
                        guard let id = message.messageID, id.hasPrefix("B-"), id.hasSuffix("/routed"),
                            let index = Int(id.dropFirst(2).dropLast(7))
                        else { return Int.max }
                        if !received.insert(index).inserted {
                            duplicates += 1
                            return Int.max
                        }
                        return index >= counted ? index : Int.max
                    }
                    let times = sent.lookup(indices)
                    for time in times.compactMap({ $0 }) { latencies.append((arrived - time).seconds * 1000) }
                }
                return latencies
            }
            var latencies: [Double] = []
            for try await value in group {
                if let value {
                    latencies = value
                    group.cancelAll()
                }
            }
            return latencies
        }
        await consumer.close()
        await publisher.close()
        await context.publisher.close()
        await context.pool.close()
        return result
    }
}

Observability.bootstrap(logLevel: .critical)
let plan = Options.parseOrExit().plan
print(
    "complaints: \(plan.total) at \(plan.rate)/s for \(plan.seconds) s (first \(plan.warmup) s not counted), "
        + "\(plan.perTick) per \(plan.tick) ms"
)
do {
    // The decision alone (classify, prioritise, route, SLA deadlines), on one core, without the servers.
    let policy = try ComplaintPolicy(json: Data(contentsOf: URL(fileURLWithPath: "deploy/complaint-rules.json")))
    let messages = try (0..<5000).map { try ComplaintMessage.decode(body: complaint($0)) }
    let start = ContinuousClock.now
    var desks = 0
    for message in messages {
        let facts = ComplaintFacts(
            receivedAt: message.receivedAt.date,
            channel: message.channel,
            subject: message.subject,
            body: message.body,
            language: message.language
        )
        desks &+= policy.decide(facts, customer: .unknown).routing.desk.name.count
    }
    let rate = Double(messages.count) / (ContinuousClock.now - start).seconds
    print(String(format: "decision alone (classify, priority, route, SLA): %8.0f complaints/s (one core)", rate))
    _ = desks
}
let latencies = try await measure(plan)

let sorted = latencies.sorted()
print("routed and measured: \(sorted.count) of \(plan.total - plan.warmup * plan.rate)")
print(
    String(
        format:
            "latency published → on desk queue: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (target p99 < 50 ms)",
        SampleStatistics.percentile(sorted, 0.50),
        SampleStatistics.percentile(sorted, 0.90),
        SampleStatistics.percentile(sorted, 0.99),
        sorted.last ?? .nan
    )
)
print(
    String(
        format:
            "RESULT | complaint published → routed on its desk queue, %d/s | p50 %.1f ms, p99 %.1f ms | p99 < 50 ms |",
        plan.rate,
        SampleStatistics.percentile(sorted, 0.50),
        SampleStatistics.percentile(sorted, 0.99)
    )
)
// What the service measured of itself: batches of complaints.inbox and their transactions.
var figures: [String: Double] = [:]
for line in Observability.renderMetrics().split(separator: "\n") where !line.hasPrefix("#") {
    let parts = line.split(separator: " ")
    if parts.count == 2, let value = Double(parts[1]) { figures[String(parts[0])] = value }
}
let batches = figures["crm_complaints_batch_seconds_count"] ?? 0
if batches > 0 {
    print(
        String(
            format: "service: %.0f batches, %.1f complaints per batch, %.1f ms per batch transaction (mean)",
            batches,
            (figures["crm_amqp_batch_size_sum{queue=\"complaints.inbox\"}"] ?? 0) / batches,
            (figures["crm_complaints_batch_seconds_sum"] ?? 0) / batches * 1000
        )
    )
}
