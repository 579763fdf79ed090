import CRMAMQP
import CRMContract
import CRMPostgres
import CRMSchema
import CRMSupport
import Foundation
import Synchronization
import TestSupport

/// The whole system as deployed: the four real executables as separate processes against a test database and
/// vhost, a stream of orders flowing in, and the checks that reconcile what went in with what came out.
final class SystemHarness: Sendable {
    static let services = ["crm-intake", "crm-scoring", "crm-alerts", "crm-complaints"]

    let environment: TestEnvironment
    /// The broker the system runs on: the environment's, or the brokers of a cluster.
    let amqp: AMQPSettings
    /// Variables every service process gets on top of the environment's (a cluster's `CRM_AMQP_URL`, say).
    let overrides: [String: String]
    /// The database the system writes, as the checks read it: the environment's, or another server's.
    let pool: PostgresPool
    let publisher: AMQPPublisher
    /// Run each service with its own database role and broker user, as deployed, rather than the test
    /// administrator's: faults are met with no more privilege than in production.
    let ownAccounts: Bool
    private let processes = Mutex<[String: [Process]]>([:])
    /// Routed complaints taken from the desk queues so far: message ids, and deliveries counted with repeats.
    private let routed = Mutex<(ids: Set<String>, deliveries: Int)>(([], 0))
    /// Dead letters of intake taken so far, the same way.
    private let dead = Mutex<(ids: Set<String>, deliveries: Int)>(([], 0))

    /// The system on the environment's servers, or with `amqp`, `pool` and `overrides` on other servers (a
    /// RabbitMQ cluster, a PostgreSQL primary with a standby).
    init(
        _ environment: TestEnvironment,
        ownAccounts: Bool = true,
        amqp: AMQPSettings? = nil,
        pool: PostgresPool? = nil,
        overrides: [String: String] = [:]
    ) {
        self.environment = environment
        self.pool = pool ?? environment.pool
        self.ownAccounts = ownAccounts
        self.amqp = amqp ?? environment.amqp
        self.overrides = overrides
        publisher = AMQPPublisher(
            settings: self.amqp,
            name: "system-test",
            topology: Topology.system(desks: Self.desks),
            logger: TestServers.logger
        )
    }

    /// What a deployment's migrate and accounts jobs do before services run on their own accounts: the whole
    /// topology (the services only check it), the grants and the broker permissions.
    /// Returns the connected administrator's publisher; the caller closes it.
    static func prepareDeployment(_ environment: TestEnvironment) async throws -> AMQPPublisher {
        try await environment.grantServiceAccounts()
        let publisher = AMQPPublisher(
            settings: environment.amqp,
            name: "test",
            topology: Topology.system(desks: desks),
            logger: TestServers.logger
        )
        try await publisher.connect()
        return publisher
    }

    /// Starts `replicas` processes of every service (or of the named ones), after what a deployment's migrate job
    /// does, the whole topology (the services only check it), and with their own accounts what its accounts job
    /// does: the grants and the broker permissions.
    func start(_ services: [String] = SystemHarness.services, replicas: Int = 1) async throws {
        try await publisher.connect()
        if ownAccounts {
            try await environment.grantServiceAccounts()
        }
        for service in services {
            for _ in 0..<replicas { try launch(service) }
        }
    }

    /// Starts one more process of `service`.
    func launch(_ service: String) throws {
        var variables = environment.serviceVariables
        if ownAccounts, let account = ServiceAccount.allCases.first(where: { $0.executable == service }) {
            variables = try environment.serviceVariables(as: account)
        }
        variables.merge(overrides) { $1 }
        variables["CRM_HTTP_PORT"] = "0"
        let process = try Shell.launch(service, environment: variables)
        processes.withLock { $0[service, default: []].append(process) }
    }

    /// Kills one process of `service` with SIGKILL, at whatever it is doing.
    func killOne(_ service: String) {
        let victim = processes.withLock { running -> Process? in
            guard let index = running[service]?.firstIndex(where: \.isRunning) else { return nil }
            return running[service]?.remove(at: index)
        }
        guard let victim else { return }
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
    }

    /// Stops every process with SIGTERM and returns the exit statuses that were not 0.
    func stopAll() async -> [String] {
        let all = processes.withLock { running in
            defer { running = [:] }
            return running.flatMap { service, list in list.map { (service, $0) } }
        }
        for (_, process) in all where process.isRunning { kill(process.processIdentifier, SIGTERM) }
        var failures: [String] = []
        for (service, process) in all {
            for _ in 0..<150 where process.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
            if process.isRunning {
                process.terminate()
                failures.append("\(service) ignored SIGTERM")
            } else if process.terminationStatus != 0 {
                failures.append("\(service) exited \(process.terminationStatus)")
            }
        }
        await publisher.close()
        return failures
    }

    // MARK: - The order stream

    /// A deterministic stream: `count` orders over `customers` customers; every 100th invalid (a negative
    /// amount), every 50th published twice.
    struct OrderStream: Sendable {
        var count: Int
        var customers: Int = 500

        func body(_ index: Int) -> Data {
            let amount = index % 100 == 99 ? "-1.00" : "\(index % 97 + 1).25"
            let day = 1 + index % 28
            return Data(
                #"{"schema":"order.v1","order_id":"S-\#(index)","customer_id":"C-\#(index % customers)","occurred_at":"2026-10-\#(day < 10 ? "0" : "")\#(day)T10:00:00Z","amount":"\#(amount)","currency":"USD"}"#
                    .utf8
            )
        }

        var invalid: Int { (0..<count).filter { $0 % 100 == 99 }.count }
        var valid: Int { count - invalid }
        /// Σ of the valid amounts, in cents.
        var validCents: Int { (0..<count).filter { $0 % 100 != 99 }.reduce(0) { $0 + ($1 % 97 + 1) * 100 + 25 } }
        var customersWithValidOrders: Int { Set((0..<count).filter { $0 % 100 != 99 }.map { $0 % customers }).count }

        /// Every 20th order comes with a complaint of its customer; every 10th complaint is published twice.
        func complaint(_ index: Int) -> OutboundMessage? {
            guard index % 20 == 7 else { return nil }
            let subjects = ["Parcel never arrived", "Charged twice, please refund", "The disc is scratched", "包裹还没有到"]
            let body = Data(
                #"{"schema":"complaint.v1","complaint_id":"K-\#(index)","customer_id":"C-\#(index % customers)","received_at":"\#(Timestamp(Date()).rfc3339)","channel":"email","subject":"\#(subjects[index % subjects.count])"}"#
                    .utf8
            )
            return OutboundMessage(
                exchange: Topology.complaintsExchange,
                routingKey: "complaint.v1.new",
                body: body,
                messageID: "K-\(index)"
            )
        }

        var complaints: Int { (0..<count).filter { $0 % 20 == 7 }.count }

        func messages(_ range: Range<Int>) -> [OutboundMessage] {
            range.flatMap { index -> [OutboundMessage] in
                let message = OutboundMessage(
                    exchange: Topology.ordersExchange,
                    routingKey: "order.v1",
                    body: body(index),
                    messageID: "S-\(index)"
                )
                var messages = index % 50 == 0 ? [message, message] : [message]
                if let complaint = complaint(index) {
                    messages += index % 200 == 7 ? [complaint, complaint] : [complaint]
                }
                return messages
            }
        }
    }

    /// Publishes the stream in batches, retrying through broker outages; `during` runs once, when `faultAt`
    /// of the stream has been published.
    func publish(
        _ stream: OrderStream,
        faultAt fraction: Double = 0.4,
        during fault: @Sendable () async throws -> Void = {}
    ) async throws {
        let faultIndex = Int(Double(stream.count) * fraction)
        var faulted = false
        for start in stride(from: 0, to: stream.count, by: 500) {
            let end = min(start + 500, stream.count)
            try await publishRetrying(stream.messages(start..<end))
            if !faulted, end >= faultIndex {
                faulted = true
                try await fault()
            }
        }
    }

    /// Publishes with confirms, retrying while the broker is away (up to a minute).
    func publishRetrying(_ messages: [OutboundMessage]) async throws {
        var attempt = 0
        while true {
            do {
                try await publisher.publish(messages)
                return
            } catch {
                attempt += 1
                guard error.isTransient, attempt < 120 else { throw error }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    // MARK: - Reconciliation

    /// What the system holds once quiet.
    struct Ledger: Equatable, CustomStringConvertible {
        var orders = 0
        var cents = 0
        var scoredCustomers = 0
        var deadOrders = 0
        var outbox = 0
        var pending = 0
        var complaints = 0
        var routed = 0
        var duplicateOpenAlerts = 0

        var description: String {
            "orders \(orders), cents \(cents), scored \(scoredCustomers), dead \(deadOrders), outbox \(outbox), "
                + "pending \(pending), complaints \(complaints), routed \(routed), duplicate open alerts \(duplicateOpenAlerts)"
        }
    }

    func ledger() async throws -> Ledger {
        let rows = try await pool.retryingTransaction(for: .seconds(30)) { connection in
            try connection.query(
                """
                SELECT (SELECT count(*) FROM orders), (SELECT coalesce(sum(amount * 100), 0)::bigint FROM orders),
                       (SELECT count(*) FROM customer_scores WHERE orders_count > 0), (SELECT count(*) FROM crm_outbox),
                       (SELECT count(*) FROM complaints),
                       (SELECT count(*) - count(DISTINCT (customer_id, reason)) FROM retention_alert_reasons WHERE open)
                """
            )
        }
        var ledger = Ledger()
        ledger.orders = try rows[0].decode(0)
        ledger.cents = try rows[0].decode(1)
        ledger.scoredCustomers = try rows[0].decode(2)
        ledger.outbox = try rows[0].decode(3)
        ledger.complaints = try rows[0].decode(4)
        ledger.duplicateOpenAlerts = try rows[0].decode(5)
        // Depths alone are cheap; the queues are drained (to count distinct message ids) once they are full enough.
        var waitingOnDesks = 0
        for desk in Self.desks { waitingOnDesks += try await publisher.inspectQueue("desk.\(desk)").messages }
        ledger.routed = routed.withLock { $0.ids.count } + waitingOnDesks
        ledger.deadOrders =
            dead.withLock { $0.ids.count } + (try await publisher.inspectQueue("intake.orders.dead").messages)
        ledger.pending =
            try await publisher.inspectQueue(Topology.intakeQueue).messages
            + (try await publisher.inspectQueue(Topology.scoringEventsQueue).messages)
            + (try await publisher.inspectQueue(Topology.complaintsQueue).messages)
        return ledger
    }

    /// Takes what waits on the desk queues and returns the distinct routed complaints seen so far. The outbox
    /// relay publishes at least once (a replica killed between the broker's confirm and its commit publishes the
    /// batch again), so desks deduplicate by message id, and so does this count.
    func takeRouted() async throws -> Int {
        try await take(Self.desks.map { "desk.\($0)" }, into: routed)
    }

    /// Takes intake's dead letters (a replica killed after dead-lettering and before acking repeats them).
    func takeDead() async throws -> Int {
        try await take(["intake.orders.dead"], into: dead)
    }

    private func take(
        _ queues: [String],
        into seen: borrowing Mutex<(ids: Set<String>, deliveries: Int)>
    ) async throws
        -> Int
    {
        for queue in queues {
            let consumer = AMQPConsumer(
                settings: amqp,
                queue: queue,
                prefetch: 1000,
                logger: TestServers.logger
            )
            while true {
                let batch = try await consumer.nextBatch(
                    maxCount: 1000,
                    wait: .milliseconds(50),
                    linger: .milliseconds(10)
                )
                guard let last = batch.last else { break }
                seen.withLock { seen in
                    for message in batch { seen.ids.insert(message.messageID ?? "") }
                    seen.deliveries += batch.count
                }
                try await consumer.acknowledge(upTo: last)
            }
            await consumer.close()
        }
        return seen.withLock { $0.ids.count }
    }

    /// Takes every retention alert waiting on the three desk queues: distinct alert ids, and deliveries.
    func takeAlerts() async throws -> (distinct: Int, deliveries: Int) {
        let alerts = Mutex<(ids: Set<String>, deliveries: Int)>(([], 0))
        let queues = AlertPriority.allCases.map { "alerts.retention.\($0.rawValue)" }
        _ = try await take(queues, into: alerts)
        return alerts.withLock { ($0.ids.count, $0.deliveries) }
    }

    /// Routed complaints delivered more than once (by message id).
    var repeatedDeliveries: Int { routed.withLock { $0.deliveries - $0.ids.count } }
    /// Dead letters delivered more than once (by message id).
    var repeatedDeadLetters: Int { dead.withLock { $0.deliveries - $0.ids.count } }

    /// The ledger the stream must end in.
    func expected(_ stream: OrderStream) -> Ledger {
        Ledger(
            orders: stream.valid,
            cents: stream.validCents,
            scoredCustomers: stream.customersWithValidOrders,
            deadOrders: stream.invalid,
            outbox: 0,
            pending: 0,
            complaints: stream.complaints,
            routed: stream.complaints,
            duplicateOpenAlerts: 0
        )
    }

    /// The desks of the default complaint rules, which the services load into an empty database.
    static let desks: [String] = {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/complaint-rules.json")
        guard let data = try? Data(contentsOf: file),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let desks = object["desks"] as? [[String: Any]]
        else { return [] }
        return desks.compactMap { $0["name"] as? String }
    }()

    /// Waits until the system holds exactly what the stream should leave, or the timeout passes; returns the
    /// last ledger seen.
    func reconcile(_ stream: OrderStream, timeout: Duration = .seconds(120)) async throws -> Ledger {
        let target = expected(stream)
        let deadline = ContinuousClock.now + timeout
        var last = Ledger()
        while ContinuousClock.now < deadline {
            if var current = try? await ledger() {
                if current.routed >= target.routed, current.deadOrders >= target.deadOrders {
                    current.routed = try await takeRouted()
                    current.deadOrders = try await takeDead()
                }
                last = current
                if current == target { return current }
                // More than the target is a double count: no waiting will undo it.
                if current.orders > target.orders || current.cents > target.cents {
                    return current
                }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        return last
    }
}
