/// The exchanges, queues and bindings of the broker, as data: declared idempotently by `crm migrate` (as the
/// operator) and written into `deploy/rabbitmq/definitions.json`; each service checks its part at start-up with
/// passive declares (``Action/verify``), so its broker user needs no permission to create or delete anything.
///
/// Every consuming queue dead-letters to `crm.dead`, where `<queue>.dead` keeps what could not be
/// processed. The service publishes those copies itself (with the `x-crm-error` reason header);
/// the queue arguments also route anything the broker itself dead-letters to the same place.
public struct Topology: Sendable, Equatable {
    /// A durable exchange.
    public struct Exchange: Sendable, Equatable, Hashable {
        public var name: String
        public var type: String

        public init(_ name: String, type: String = "topic") {
            self.name = name
            self.type = type
        }
    }

    /// A routing key binding a queue to an exchange.
    public struct Binding: Sendable, Equatable, Hashable {
        public var exchange: String
        public var routingKey: String

        public init(_ exchange: String, _ routingKey: String) {
            self.exchange = exchange
            self.routingKey = routingKey
        }
    }

    /// A durable queue with its bindings; `deadLettered` queues get a `<name>.dead` companion.
    public struct Queue: Sendable, Equatable, Hashable {
        public var name: String
        public var bindings: [Binding]
        public var deadLettered: Bool

        public init(_ name: String, bindings: [Binding], deadLettered: Bool = true) {
            self.name = name
            self.bindings = bindings
            self.deadLettered = deadLettered
        }

        /// The name of the queue that keeps this queue's dead letters.
        public var deadLetterQueue: String { name + ".dead" }
    }

    /// What a connection does with a topology when it opens.
    public enum Action: Sendable, Equatable {
        /// Declares every exchange, queue and binding (idempotent): what `crm migrate` does, as the operator.
        case declare
        /// Checks that every exchange and queue exists (passive declares), creating nothing: what a service does,
        /// so that its broker user needs no configure permission at all.
        case verify
    }

    public var exchanges: [Exchange]
    public var queues: [Queue]

    public init(exchanges: [Exchange] = [], queues: [Queue] = []) {
        self.exchanges = exchanges
        self.queues = queues
    }

    /// Both topologies together, each exchange and queue once.
    public func merging(_ other: Topology) -> Topology {
        var result = self
        for exchange in other.exchanges where !result.exchanges.contains(exchange) {
            result.exchanges.append(exchange)
        }
        for queue in other.queues where !result.queues.contains(where: { $0.name == queue.name }) {
            result.queues.append(queue)
        }
        return result
    }

    /// The arguments a queue is declared with; they must match on every declaration.
    public static func arguments(for queue: Queue, quorum: Bool) -> [String: AMQPHeaderValue] {
        var arguments: [String: AMQPHeaderValue] = [:]
        if quorum { arguments["x-queue-type"] = .string("quorum") }
        if queue.deadLettered {
            arguments["x-dead-letter-exchange"] = .string(deadLetterExchange)
            arguments["x-dead-letter-routing-key"] = .string(queue.name)
        }
        return arguments
    }

    /// Every queue to declare, dead-letter companions included.
    public var allQueues: [(queue: Queue, isDeadLetterQueue: Bool)] {
        queues.flatMap { queue -> [(Queue, Bool)] in
            guard queue.deadLettered else { return [(queue, false)] }
            let dead = Queue(
                queue.deadLetterQueue,
                bindings: [Binding(Self.deadLetterExchange, queue.name)],
                deadLettered: false
            )
            return [(queue, false), (dead, true)]
        }
    }
}

// MARK: - The system's names

extension Topology {
    /// Dead letters go here, routed by the name of the queue they came from.
    public static let deadLetterExchange = "crm.dead"
    /// The header that carries a dead letter's reason, in words.
    public static let errorHeader = "x-crm-error"

    public static let ordersExchange = "crm.orders"
    /// Customers registered or updated without an order (`customer.v1`).
    public static let customersExchange = "crm.customers"
    /// Lifecycle events for marketing tools (`customer-lifecycle.v1`); operators bind their own queues.
    public static let lifecycleExchange = "crm.lifecycle"
    public static let complaintsExchange = "crm.complaints"
    public static let alertsExchange = "crm.alerts"
    public static let desksExchange = "crm.desks"
    /// Internal events between the services (not part of the public interface).
    public static let eventsExchange = "crm.events"

    public static let intakeQueue = "intake.orders"
    public static let intakeCustomersQueue = "intake.customers"
    public static let complaintsQueue = "complaints.inbox"
    public static let feedbackQueue = "alerts.feedback"
    public static let escalationsQueue = "desk.escalations"
    public static let scoringEventsQueue = "scoring.events"
    public static let alertEventsQueue = "alerts.events"

    /// Whether publishes to `exchange` are mandatory (returned, and retried, when no queue takes them): everywhere
    /// but on `crm.lifecycle`, whose queues are the marketing tools' own to bind, and where an event nobody listens
    /// to is dropped by the broker rather than held up in the outbox.
    public static func isMandatory(exchange: String) -> Bool {
        exchange != lifecycleExchange
    }

    /// Routing keys of the internal events.
    public enum EventKey {
        public static let orderAccepted = "order.accepted"
        public static let customerScored = "customer.scored"
        public static let complaintSignal = "complaint.signal"
    }

    static let dead = Topology(exchanges: [Exchange(deadLetterExchange)])

    /// What `crm-intake` touches: it consumes orders and customer registrations and emits `order.accepted`.
    public static let intake = dead.merging(
        Topology(
            exchanges: [Exchange(ordersExchange), Exchange(customersExchange), Exchange(eventsExchange)],
            queues: [
                Queue(intakeQueue, bindings: [Binding(ordersExchange, "order.v1")]),
                Queue(intakeCustomersQueue, bindings: [Binding(customersExchange, "customer.v1")]),
            ]
        )
    )

    /// What `crm-scoring` touches: it consumes `order.accepted`, emits `customer.scored` and publishes lifecycle
    /// events on `crm.lifecycle`, which has no queue of the system's: marketing tools bind their own.
    public static let scoring = dead.merging(
        Topology(
            exchanges: [Exchange(eventsExchange), Exchange(lifecycleExchange)],
            queues: [Queue(scoringEventsQueue, bindings: [Binding(eventsExchange, EventKey.orderAccepted)])]
        )
    )

    /// What `crm-alerts` touches: internal events in, retention alerts out, desk feedback in.
    public static let alerts = dead.merging(
        Topology(
            exchanges: [Exchange(eventsExchange), Exchange(alertsExchange)],
            queues: [
                Queue(
                    alertEventsQueue,
                    bindings: [
                        Binding(eventsExchange, EventKey.customerScored),
                        Binding(eventsExchange, EventKey.complaintSignal),
                        // Accepted orders update the observed outcomes of the customers' alerts.
                        Binding(eventsExchange, EventKey.orderAccepted),
                    ]
                ),
                Queue("alerts.retention.p1", bindings: [Binding(alertsExchange, "retention.p1")]),
                Queue("alerts.retention.p2", bindings: [Binding(alertsExchange, "retention.p2")]),
                Queue("alerts.retention.p3", bindings: [Binding(alertsExchange, "retention.p3")]),
                Queue(feedbackQueue, bindings: [Binding(alertsExchange, "alert.v1.feedback")]),
            ]
        )
    )

    /// What `crm-complaints` touches, with a `desk.<name>` queue for every configured desk.
    ///
    /// Its complaint signals reach `alerts.events` through the binding in ``alerts``, which `crm migrate` declares
    /// with the rest of the system, whether `crm-alerts` runs yet or not.
    public static func complaints(desks: [String]) -> Topology {
        let deskQueues = (desks + ["escalations"]).map { desk in
            Queue("desk.\(desk)", bindings: [Binding(desksExchange, "desk.\(desk)")])
        }
        return dead.merging(
            Topology(
                exchanges: [Exchange(complaintsExchange), Exchange(desksExchange), Exchange(eventsExchange)],
                queues: [
                    Queue(
                        complaintsQueue,
                        bindings: [
                            Binding(complaintsExchange, "complaint.v1.new"),
                            Binding(complaintsExchange, "complaint.v1.status"),
                        ]
                    )
                ] + deskQueues
            )
        )
    }

    /// The whole system, as `crm migrate` and `deploy/` declare it.
    public static func system(desks: [String]) -> Topology {
        intake.merging(scoring).merging(alerts).merging(complaints(desks: desks))
    }

    /// Where the messages of a queue of the system come from: its bindings (`desk.<name>` for any desk name), or
    /// nil for a queue the system does not have. `crm replay-dead` sends a dead letter back only along one of them.
    public static func bindings(ofQueue name: String) -> [Binding]? {
        let desks = name.hasPrefix("desk.") ? [String(name.dropFirst("desk.".count))] : []
        return system(desks: desks).queues.first { $0.name == name }?.bindings
    }
}
