import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation

/// Evaluates a set of customers in the caller's transaction: the one path events, complaints and sweeps share.
///
/// 1. Locks the customers (``AlertStore/lock(customers:on:)``), so no other consumer, sweep or replica evaluates
///    them until this transaction ends.
/// 2. Stores new complaint signals; reads every customer's case set-wise.
/// 3. Decides per customer (``AlertDecider``), without I/O.
/// 4. Claims room in the day's desk queues (``DailyQuota``) for the alerted group; what does not fit is kept as held,
///    never dropped. Control alerts take no room and are never published.
/// 5. Writes the alerts with their open reasons, the queued ones' messages into the outbox, and the evaluated
///    figures; all commit together, so a crash loses nothing and a retry raises nothing twice.
///
/// A new alert starts `pending` as of its `as_of`; ``OutcomeTracker`` judges it as orders arrive and at each full
/// rescoring.
struct AlertEvaluator: Sendable {
    let configuration: AlertsConfiguration
    let playbook: PlaybookSource
    /// Where the messages of queued alerts are written.
    let outbox: Outbox

    /// An event in hand for one customer: its figures and the previous stage and tier it names.
    typealias EventInput = (figures: ScoredFigures, previous: ScoreSnapshot?)

    /// Evaluates `customers`; returns what to count once the transaction commits.
    func evaluate(
        customers: [String],
        events: [String: EventInput] = [:],
        complaints: [ComplaintSignalEvent] = [],
        now: Date,
        on connection: isolated PostgresConnection
    ) throws -> AlertsMetrics.Tally {
        let ids = Array(Set(customers)).sorted()
        var tally = AlertsMetrics.Tally()
        guard !ids.isEmpty else { return tally }
        try AlertStore.lock(customers: ids, on: connection)
        try AlertStore.record(complaints: complaints.filter { $0.kind == .received }, on: connection)
        try AlertStore.record(facts: complaints.filter { $0.kind != .received }, on: connection)
        let rules = configuration.rules
        let cases = try AlertStore.cases(
            customers: ids,
            events: events,
            complaintsSince: now.addingTimeInterval(-rules.repeatedComplaintsWindowDays * 86_400),
            closedSince: now.addingTimeInterval(-configuration.cooldown.seconds),
            on: connection
        )

        let decider = AlertDecider(
            composer: RetentionAlertComposer(settings: rules, playbook: playbook.current),
            control: configuration.controlGroup
        )
        var evaluations: [Evaluation] = []
        for customer in cases {
            guard let evaluation = decider.decide(customer, now: now) else { continue }
            evaluations.append(evaluation)
            tally.suppressed.merge(evaluation.suppressed, uniquingKeysWith: +)
            if evaluation.unpublishable { tally.unpublishable += 1 }
            if let flag = evaluation.suppressedBy { tally.suppressedByFlag[flag, default: 0] += 1 }
        }
        tally.evaluated = evaluations.count

        let alerts = evaluations.compactMap(\.alert)
        let alerted = alerts.filter { $0.group == .alerted }
        let held = try allot(alerted, now: now, on: connection)
        try AlertStore.insert(alerts, held: held, on: connection)
        try outbox.enqueue(alerted.filter { !held.contains($0.alertID) }.map(Self.message), on: connection)
        try AlertStore.save(evaluations, now: now, on: connection)
        for alert in alerts {
            tally.groups[alert.group, default: 0] += 1
            guard alert.group == .alerted else { continue }
            tally.raised[alert.priority, default: 0] += 1
            if held.contains(alert.alertID) { tally.held[alert.priority, default: 0] += 1 }
        }
        return tally
    }

    /// Claims the day's room per desk queue; returns the alerts that do not fit (the least valuable of each queue).
    private func allot(
        _ alerts: [PlannedAlert],
        now: Date,
        on connection: isolated PostgresConnection
    ) throws -> Set<UUID> {
        guard !alerts.isEmpty else { return [] }
        let byPriority = Dictionary(grouping: alerts, by: \.priority)
        let granted = try DailyQuota.claim(
            byPriority.mapValues(\.count),
            caps: caps,
            day: DailyQuota.day(of: now),
            on: connection
        )
        var held = Set<UUID>()
        for (priority, group) in byPriority {
            let ranked = group.sorted { $0.content.valueAtRisk > $1.content.valueAtRisk }
            held.formUnion(ranked.dropFirst(granted[priority] ?? 0).map(\.alertID))
        }
        return held
    }

    /// The caps per desk queue, nil for none.
    /// Judges observed outcomes with the configured window.
    var outcomes: OutcomeTracker { OutcomeTracker(window: configuration.outcomeWindow) }

    var caps: [AlertPriority: Int?] {
        Dictionary(uniqueKeysWithValues: AlertPriority.allCases.map { ($0, configuration.cap($0)) })
    }

    /// The outbox message of an alert: to `crm.alerts` with its priority's routing key, the alert id as message id.
    static func message(_ alert: PlannedAlert) -> OutboundMessage {
        OutboundMessage(
            exchange: Topology.alertsExchange,
            routingKey: alert.priority.routingKey,
            body: alert.body,
            messageID: alert.alertID.uuidString.lowercased()
        )
    }
}
