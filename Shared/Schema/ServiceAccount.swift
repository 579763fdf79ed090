import CRMAMQP

/// The five services as accounts: what each may touch in PostgreSQL and on the broker, stated once.
///
/// `crm migrate` grants exactly this to the roles `crm_intake`, `crm_scoring`, `crm_alerts`, `crm_complaints`,
/// `crm_console` when they exist, and `crm accounts` creates them (and the broker users of the four that use the
/// broker) from passwords in the environment.
/// A service run with its own account cannot read another service's tables, see another's outbox rows
/// (row-level security on `crm_outbox`), consume another's queues or publish to exchanges it has no business in.
public enum ServiceAccount: String, CaseIterable, Sendable {
    case intake, scoring, alerts, complaints, console

    /// The PostgreSQL role and the RabbitMQ user name.
    public var name: String { "crm_\(rawValue)" }

    /// The executable.
    public var executable: String { "crm-\(rawValue)" }

    /// The variable `crm accounts` reads the account's password from, e.g. `CRM_INTAKE_PASSWORD`.
    public var passwordVariable: String { "CRM_\(rawValue.uppercased())_PASSWORD" }

    /// The `source` of the service's rows in `crm_outbox`; row-level security shows a role only these.
    public var outboxSource: String { rawValue }

    /// Whether the service has a broker user: the console reads the database only.
    public var usesBroker: Bool { self != .console }

    /// The accounts with a broker user.
    public static var brokerAccounts: [ServiceAccount] { allCases.filter(\.usesBroker) }

    // MARK: - PostgreSQL

    /// Table privileges, by table: what the service's SQL reads and writes, nothing more. Every service also
    /// uses ``commonTables``.
    public var tables: [String: String] {
        let own = "SELECT, INSERT, UPDATE, DELETE"
        switch self {
        case .intake:
            return [
                "customers": "SELECT, INSERT, UPDATE", "orders": "SELECT, INSERT, UPDATE",
                "order_items": "SELECT, INSERT", "fx_rates": "SELECT",
                // The bodies of held refunds, dead-lettered when their purchase refuses them.
                "held_refunds": "SELECT, INSERT, DELETE",
            ]
        case .scoring:
            // Customers' names and e-mail addresses stay with intake: scoring needs who exists, and the region and
            // type that the customer object shows and lists filter on.
            return [
                "customers": "SELECT (customer_id, region, customer_type)", "orders": "SELECT", "scoring_models": own,
                "customer_scores": own, "customer_score_history": own, "scoring_validations": own,
                // Each customer's orders summed up, kept by triggers on `orders` (a full rescoring reads it).
                "customer_activity": "SELECT",
                // A report per full rescoring, only ever added.
                "base_reports": "SELECT, INSERT",
                // The customer view counts open alerts and complaints (two columns each) and shows the flags.
                "retention_alerts": "SELECT (customer_id, status, alert_group)",
                // The customer object's satisfaction: each complaint's rating, nothing of its text.
                "complaints": "SELECT (customer_id, state, satisfaction, satisfaction_at)",
                "customer_flags": "SELECT",
            ]
        case .alerts:
            return [
                // Flagged customers get no retention alert.
                "customer_scores": "SELECT", "customer_flags": "SELECT", "alert_customer_state": own,
                "retention_alerts": own,
                "retention_alert_reasons": own, "alert_feedback": own, "alert_complaints": own,
                "alert_daily_counts": own, "alert_sweeps": own, "alert_outcome_runs": own,
                "alert_complaint_facts": own,
                // Observed outcomes: the purchases and refunds after an alert (no customer data), and the as-of time
                // of each full rescoring, which outcomes are judged at.
                "orders": "SELECT (order_id, customer_id, kind, original_order_id, occurred_at, amount_base, held)",
                "scoring_models": "SELECT (model_id, as_of)",
            ]
        case .complaints:
            return [
                // Enrichment: the region of a known customer and the count of its purchases, nothing personal.
                "customer_scores": "SELECT", "customers": "SELECT (customer_id, region)",
                "orders": "SELECT (customer_id, kind, held)",
                "complaint_rules": own, "complaints": own, "complaint_status_events": own,
                "complaint_escalations": own, "complaint_sla_warnings": own,
            ]
        case .console:
            // Read-only over what its pages show; its own sessions and failed sign-ins. Users are written by
            // `crm users` (the owner); the console reads them to sign people in. No e-mail address is read.
            return [
                "customers": "SELECT (customer_id, name, region, customer_type)", "orders": "SELECT",
                "scoring_models": "SELECT", "customer_scores": "SELECT", "customer_score_history": "SELECT",
                "scoring_validations": "SELECT", "base_reports": "SELECT", "customer_flags": "SELECT",
                "customer_flag_events": "SELECT", "retention_alerts": "SELECT", "retention_alert_reasons": "SELECT",
                "alert_feedback": "SELECT", "alert_sweeps": "SELECT", "complaints": "SELECT",
                "complaint_status_events": "SELECT", "complaint_escalations": "SELECT",
                "console_users": "SELECT (username, role, password_hash)",
                "console_sessions": "SELECT, INSERT, UPDATE, DELETE",
                "console_login_failures": "SELECT, INSERT, DELETE",
            ]
        }
    }

    /// Everything granted on tables: ``tables`` and ``commonTables`` (the console, which publishes nothing, without
    /// the outbox).
    public var grantedTables: [String: String] {
        var common = Self.commonTables
        if self == .console { common["crm_outbox"] = nil }
        return tables.merging(common) { own, _ in own }
    }

    /// Tables every service uses the same way: its own outbox rows (row-level security), its replica row, and
    /// the applied migrations.
    public static let commonTables: [String: String] = [
        "crm_outbox": "SELECT, INSERT, UPDATE, DELETE", "crm_instances": "SELECT, INSERT, UPDATE, DELETE",
        "crm_schema_migrations": "SELECT",
    ]

    /// Tables no service writes: operators change them through `crm` with the owner's account.
    public static let operatorTables: Set<String> = [
        "order_removals", "customer_erasures", "customer_flag_events", "console_users",
    ]

    /// Functions the service may call, by signature: each runs with its owner's rights and does one narrow thing.
    public var functions: [String] {
        switch self {
        // Removes a held refund its purchase refused, and nothing else: intake may not delete orders.
        case .intake: ["crm_refuse_held_refunds(text[])"]
        case .scoring, .alerts, .complaints, .console: []
        }
    }

    /// The database privileges: every role connects; only scoring stages a full rescoring in a temporary table.
    public var databasePrivileges: String { self == .scoring ? "CONNECT, TEMPORARY" : "CONNECT" }

    // MARK: - RabbitMQ

    /// The broker objects the service needs and checks at start (its `ServiceHost` topology); `crm migrate` declares
    /// them, with the rest of the system.
    public func topology(desks: [String]) -> Topology {
        switch self {
        case .intake: Topology.intake
        case .scoring: Topology.scoring
        case .alerts: Topology.alerts
        case .complaints: Topology.complaints(desks: desks)
        case .console: Topology(exchanges: [], queues: [])
        }
    }

    /// The queues the service consumes; it dead-letters their messages to `crm.dead` under the queue's name.
    public var consumes: [String] {
        switch self {
        case .intake: [Topology.intakeQueue, Topology.intakeCustomersQueue]
        case .scoring: [Topology.scoringEventsQueue]
        case .alerts: [Topology.alertEventsQueue, Topology.feedbackQueue]
        case .complaints: [Topology.complaintsQueue]
        case .console: []
        }
    }

    /// The internal events (routing keys on `crm.events`) the service publishes, and alone may publish.
    public var events: [String] {
        switch self {
        case .intake: [Topology.EventKey.orderAccepted]
        case .scoring: [Topology.EventKey.customerScored]
        case .alerts, .console: []
        case .complaints: [Topology.EventKey.complaintSignal]
        }
    }

    /// The service that owns an internal event, by its routing key.
    public static func owner(ofEvent key: String) -> ServiceAccount? {
        allCases.first { $0.events.contains(key) }
    }

    /// Every exchange the service publishes to, with the routing keys it may use there as an anchored regular
    /// expression: its own events, its desks or priorities, and the names of its own queues on `crm.dead`.
    public var publishes: [(exchange: String, routingKeys: String)] {
        func keys(_ names: [String], _ raw: [String] = []) -> String {
            "^(" + (names.map(Self.escaped) + raw).joined(separator: "|") + ")$"
        }
        var result: [(exchange: String, routingKeys: String)] = []
        switch self {
        case .alerts: result.append((Topology.alertsExchange, keys([], [#"retention\.p[1-3]"#])))
        case .complaints: result.append((Topology.desksExchange, keys([], [#"desk\.[^.]+"#])))
        case .scoring: result.append((Topology.lifecycleExchange, keys([], [#"lifecycle\.[a-z_]+"#])))
        case .intake: break
        case .console: return []
        }
        if !events.isEmpty { result.append((Topology.eventsExchange, keys(events))) }
        result.append((Topology.deadLetterExchange, keys(consumes)))
        return result
    }

    /// The exchanges the service publishes to (dead letters go to `crm.dead`).
    public var publishesTo: [String] { publishes.map(\.exchange) }

    /// Whether the service may consume a queue: only those it consumes. Desk queues are the desks' to read, and
    /// dead-letter queues the operators'.
    public func owns(queue name: String) -> Bool { consumes.contains(name) }

    /// RabbitMQ permissions as anchored regular expressions:
    /// - configure: nothing. `crm migrate` declares the topology; a service checks it with passive declares, which
    ///   need no permission, so it can neither create, bind nor delete an exchange or queue.
    /// - write: the exchanges it publishes to, each narrowed to its routing keys by ``topicPermissions``.
    /// - read: the queues it consumes, nothing else (no exchange: binding one would need it).
    public var brokerPermissions: BrokerPermissions {
        func pattern(_ names: [String]) -> String {
            "^(" + Set(names).sorted().map(Self.escaped).joined(separator: "|") + ")$"
        }
        return BrokerPermissions(configure: "^$", write: pattern(publishesTo), read: pattern(consumes))
    }

    /// Topic permissions, per exchange it writes to: the routing keys it may publish with, and none it may bind
    /// with. RabbitMQ checks them on every publish to a topic exchange, so an account publishes only its own events,
    /// its own alert priorities or desks, and dead letters of its own queues.
    public var topicPermissions: [TopicPermission] {
        publishes.map { TopicPermission(exchange: $0.exchange, write: $0.routingKeys, read: "^$") }
    }

    private static func escaped(_ name: String) -> String {
        name.replacingOccurrences(of: ".", with: "\\.")
    }
}

/// A RabbitMQ user's permissions on one virtual host: three regular expressions over resource names.
public struct BrokerPermissions: Sendable, Equatable {
    public var configure: String
    public var write: String
    public var read: String

    public init(configure: String, write: String, read: String) {
        self.configure = configure
        self.write = write
        self.read = read
    }
}

/// A RabbitMQ topic permission: regular expressions over the routing keys a user may publish with (`write`) and
/// bind with (`read`) on one topic exchange.
public struct TopicPermission: Sendable, Equatable {
    public var exchange: String
    public var write: String
    public var read: String

    public init(exchange: String, write: String, read: String) {
        self.exchange = exchange
        self.write = write
        self.read = read
    }

    /// The body of the management API's `PUT /api/topic-permissions/{vhost}/{user}`.
    public var body: [String: String] { ["exchange": exchange, "write": write, "read": read] }
}
