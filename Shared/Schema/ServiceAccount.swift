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
            ]
        case .scoring:
            // Customers' names and e-mail addresses stay with intake: scoring needs who exists, and the region and
            // type that the customer object shows and lists filter on.
            return [
                "customers": "SELECT (customer_id, region, customer_type)", "orders": "SELECT", "scoring_models": own,
                "customer_scores": own, "customer_score_history": own,
                // A report per full rescoring, only ever added.
                "base_reports": "SELECT, INSERT",
                // The customer view counts open alerts and complaints (two columns each) and shows the flags.
                "retention_alerts": "SELECT (customer_id, status)", "complaints": "SELECT (customer_id, state)",
                "customer_flags": "SELECT",
            ]
        case .alerts:
            return [
                // Flagged customers get no retention alert.
                "customer_scores": "SELECT", "customer_flags": "SELECT", "alert_customer_state": own,
                "retention_alerts": own,
                "retention_alert_reasons": own, "alert_feedback": own, "alert_complaints": own,
                "alert_daily_counts": own, "alert_sweeps": own,
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
                "base_reports": "SELECT", "customer_flags": "SELECT", "customer_flag_events": "SELECT",
                "retention_alerts": "SELECT", "retention_alert_reasons": "SELECT", "alert_feedback": "SELECT",
                "alert_sweeps": "SELECT", "complaints": "SELECT", "complaint_status_events": "SELECT",
                "complaint_escalations": "SELECT",
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
    public static let operatorTables: Set<String> = ["customer_flag_events", "console_users"]

    /// The database privileges: every role connects; only scoring stages a full rescoring in a temporary table.
    public var databasePrivileges: String { self == .scoring ? "CONNECT, TEMPORARY" : "CONNECT" }

    // MARK: - RabbitMQ

    /// The broker objects the service declares at start (its `ServiceHost` topology).
    public func topology(desks: [String]) -> Topology {
        switch self {
        case .intake: Topology.intake
        case .scoring: Topology.scoring
        case .alerts: Topology.alerts
        case .complaints: Topology.complaints(desks: desks)
        case .console: Topology(exchanges: [], queues: [])
        }
    }

    /// The exchanges the service publishes to (dead letters go to `crm.dead`).
    public var publishesTo: [String] {
        switch self {
        case .intake, .scoring: [Topology.eventsExchange, Topology.deadLetterExchange]
        case .alerts: [Topology.alertsExchange, Topology.deadLetterExchange]
        case .complaints: [Topology.desksExchange, Topology.eventsExchange, Topology.deadLetterExchange]
        case .console: []
        }
    }

    /// Whether a queue is the service's own: it consumes it, or creates it for the desks that do. Another
    /// service's queue in its topology (complaints binds `alerts.events` to its signals) is configured and
    /// bound, never read.
    public func owns(queue name: String) -> Bool {
        switch self {
        case .intake: name.hasPrefix("intake.")
        case .scoring: name.hasPrefix("scoring.")
        case .alerts: name.hasPrefix("alerts.")
        case .complaints: name.hasPrefix("complaints.") || name.hasPrefix("desk.")
        case .console: false
        }
    }

    /// RabbitMQ permissions as anchored regular expressions, from the service's topology:
    /// - configure: the exchanges and queues it declares;
    /// - write: the exchanges it publishes to, and the queues it binds (`queue.bind` needs write on the queue);
    /// - read: its own queues (consuming, and declaring a dead-lettered queue anew, need read on it) and the
    ///   exchanges it binds from (`queue.bind` needs read on the exchange).
    ///
    /// Complaints gets a `desk\.[^.]+(\.dead)?` pattern for desks that operators add later.
    public func brokerPermissions(desks: [String]) -> BrokerPermissions {
        let topology = topology(desks: desks)
        let sources = topology.allQueues.flatMap(\.queue.bindings).map(\.exchange)
        var queues = topology.allQueues.map(\.queue)
        var extra: [String] = []
        if self == .complaints {
            queues.removeAll { $0.name.hasPrefix("desk.") }
            extra = [#"desk\.[^.]+(\.dead)?"#]
        }
        func pattern(_ names: [String], _ raw: [String] = []) -> String {
            let escaped = Set(names).sorted().map { $0.replacingOccurrences(of: ".", with: "\\.") }
            return "^(" + (escaped + raw).joined(separator: "|") + ")$"
        }
        return BrokerPermissions(
            configure: pattern(topology.exchanges.map(\.name) + queues.map(\.name), extra),
            write: pattern(publishesTo + queues.map(\.name), extra),
            read: pattern(sources + queues.map(\.name).filter(owns(queue:)), extra)
        )
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
