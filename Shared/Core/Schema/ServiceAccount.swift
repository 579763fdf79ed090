/// The four services as accounts: what each may touch in PostgreSQL and on the broker, stated once.
///
/// `crm migrate` grants exactly this to the roles `crm_intake`, `crm_scoring`, `crm_alerts`, `crm_complaints`
/// when they exist, and `crm accounts` creates them (and the broker users) from passwords in the environment.
/// A service run with its own account cannot read another service's tables, see another's outbox rows
/// (row-level security on `crm_outbox`), consume another's queues or publish to exchanges it has no business in.
public enum ServiceAccount: String, CaseIterable, Sendable {
    case intake, scoring, alerts, complaints

    /// The PostgreSQL role and the RabbitMQ user name.
    public var name: String { "crm_\(rawValue)" }

    /// The executable.
    public var executable: String { "crm-\(rawValue)" }

    /// Table privileges, by table. Every service also writes its own rows of `crm_outbox` and its replica row in
    /// `crm_instances`, and reads `crm_schema_migrations`.
    public var tables: [String: String] {
        let own = "SELECT, INSERT, UPDATE, DELETE"
        switch self {
        case .intake:
            return [
                "customers": "SELECT, INSERT, UPDATE", "orders": "SELECT, INSERT, UPDATE",
                "order_items": "SELECT, INSERT", "fx_rates": "SELECT",
            ]
        case .scoring:
            return [
                "customers": "SELECT", "orders": "SELECT", "scoring_models": own, "customer_scores": own,
                "customer_score_history": own,
                // The customer view counts open alerts and complaints: two columns each, nothing else.
                "retention_alerts": "SELECT (customer_id, status)", "complaints": "SELECT (customer_id, state)",
            ]
        case .alerts:
            return [
                "customer_scores": "SELECT", "alert_customer_state": own, "retention_alerts": own,
                "retention_alert_reasons": own, "alert_feedback": own, "alert_complaints": own,
                "alert_daily_counts": own, "alert_sweeps": own,
            ]
        case .complaints:
            return [
                "customer_scores": "SELECT", "customers": "SELECT", "orders": "SELECT (order_id, customer_id)",
                "complaint_rules": own, "complaints": own, "complaint_status_events": own,
                "complaint_escalations": own, "complaint_sla_warnings": own,
            ]
        }
    }

    /// Tables every service uses the same way.
    public static let commonTables: [String: String] = [
        "crm_outbox": "SELECT, INSERT, UPDATE, DELETE", "crm_instances": "SELECT, INSERT, UPDATE, DELETE",
        "crm_schema_migrations": "SELECT",
    ]

    /// The broker objects the service declares at start.
    public func topology(desks: [String]) -> Topology {
        switch self {
        case .intake: Topology.intake
        case .scoring: Topology.scoring
        case .alerts: Topology.alerts
        case .complaints: Topology.complaints(desks: desks)
        }
    }

    /// The exchanges the service publishes to (dead letters go to `crm.dead`).
    public var publishesTo: [String] {
        switch self {
        case .intake, .scoring: [Topology.eventsExchange, Topology.deadLetterExchange]
        case .alerts: [Topology.alertsExchange, Topology.deadLetterExchange]
        case .complaints: [Topology.desksExchange, Topology.eventsExchange, Topology.deadLetterExchange]
        }
    }

    /// RabbitMQ permissions (configure, write, read) as anchored regular expressions: configure what it declares,
    /// write the exchanges it publishes to and the queues it binds, read its queues and the exchanges it binds from.
    /// A `desk.*` pattern covers desks the operators add later.
    public func brokerPermissions(desks: [String]) -> (configure: String, write: String, read: String) {
        let topology = topology(desks: desks)
        var queues = topology.queues.flatMap { [$0.name, $0.deadLetterQueue] }
        var extra: [String] = []
        if self == .complaints {
            queues.removeAll { $0.hasPrefix("desk.") }
            extra = [#"desk\.[^.]+(\.dead)?"#]
        }
        let exchanges = topology.exchanges.map(\.name)
        func pattern(_ names: [String], _ raw: [String] = []) -> String {
            let escaped = Set(names).sorted().map { $0.replacingOccurrences(of: ".", with: "\\.") }
            return "^(" + (escaped + raw).joined(separator: "|") + ")$"
        }
        return (
            configure: pattern(exchanges + queues, extra),
            write: pattern(publishesTo + queues, extra),
            read: pattern(exchanges + queues, extra)
        )
    }
}
