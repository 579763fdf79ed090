import CRMContract
import CRMPostgres
import CRMSchema
import CRMSupport
import Foundation

/// The SQL of evaluations: per-customer locks, reading every customer's case set-wise, writing alerts, reasons and
/// the evaluated figures. Every statement runs on the caller's connection inside the caller's transaction.
enum AlertStore {
    /// The first key of this service's per-customer advisory locks ("AL"), apart from scoring's one-key locks.
    static let lockClass: Int32 = 0x414C

    /// The figure columns, in the order ``ScoredFigures/init(row:)`` reads them, of `customer_scores`: the time a
    /// score stands as of is the later of its own and the latest full rescoring's (which keeps the scores that did
    /// not move), and the days without an order count to it.
    static let scoreColumns = """
        customer_id, \(Schema.scoreAsOf("customer_scores")), lifecycle_stage, tier, p_alive, clv_predicted::float8,
        orders_count, expected_interval_days,
        extract(epoch FROM \(Schema.scoreAsOf("customer_scores")) - last_order_at)::float8 / 86400, last_order_at
        """

    /// Serialises evaluations of the same customers across consumers, sweeps and replicas until commit.
    ///
    /// Locks are taken in key order, so two transactions never wait on each other in a cycle.
    static func lock(customers: [String], on connection: isolated PostgresConnection) throws {
        try connection.execute(
            """
            SELECT pg_advisory_xact_lock($1, k)
            FROM (SELECT DISTINCT hashtext(id) AS k FROM unnest($2::text[]) AS id ORDER BY 1) AS keys
            """,
            [Int(lockClass), customers]
        )
    }

    /// Stores complaint signals once each; a received time in the future is taken as now.
    static func record(complaints: [ComplaintSignalEvent], on connection: isolated PostgresConnection) throws {
        guard !complaints.isEmpty else { return }
        try connection.execute(
            """
            INSERT INTO alert_complaints (complaint_id, customer_id, received_at, tier, severity)
            SELECT i, c, least(r, now()), t, s
            FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[]) AS x(i, c, r, t, s)
            ON CONFLICT (complaint_id) DO NOTHING
            """,
            [
                complaints.map(\.complaintID.rawValue), complaints.map(\.customerID.rawValue),
                complaints.map(\.receivedAt.date), complaints.map { $0.tier?.rawValue },
                complaints.map(\.severity.rawValue),
            ]
        )
    }

    /// Stores ratings and breaches of complaints, once per complaint and kind (a first low rating, a first breach).
    static func record(facts: [ComplaintSignalEvent], on connection: isolated PostgresConnection) throws {
        guard !facts.isEmpty else { return }
        try connection.execute(
            """
            INSERT INTO alert_complaint_facts (complaint_id, kind, customer_id, rating, target, at)
            SELECT i, k, c, r, t, least(a, now())
            FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::text[], $6::timestamptz[])
                AS x(i, k, c, r, t, a)
            ON CONFLICT (complaint_id, kind) DO NOTHING
            """,
            [
                facts.map(\.complaintID.rawValue), facts.map { $0.satisfaction == nil ? "breach" : "rating" },
                facts.map(\.customerID.rawValue), facts.map(\.satisfaction), facts.map { $0.breached?.rawValue },
                facts.map { ($0.at ?? $0.receivedAt).date },
            ]
        )
    }

    /// The case of every named customer, with the events in hand; customers are returned in the order given.
    static func cases(
        customers: [String],
        events: [String: (figures: ScoredFigures, previous: ScoreSnapshot?)],
        complaintsSince windowStart: Date,
        closedSince cooldownStart: Date,
        on connection: isolated PostgresConnection
    ) throws -> [CustomerCase] {
        var cases: [String: CustomerCase] = [:]
        for id in customers {
            let event = events[id]
            cases[id] = CustomerCase(customerID: id, event: event?.figures, eventPrevious: event?.previous)
        }
        for row in try connection.query(
            """
            SELECT customer_id, scored_at, lifecycle_stage, tier, p_alive, clv_predicted, orders_count,
                   expected_interval_days, days_since_last_order, last_order_at, evaluated_at
            FROM alert_customer_state WHERE customer_id = ANY($1::text[])
            """,
            [customers]
        ) {
            let id: String = try row.decode(0)
            cases[id]?.stored = (try ScoredFigures(row: row), try row.decode(10))
        }
        for row in try connection.query(
            "SELECT \(scoreColumns) FROM customer_scores WHERE customer_id = ANY($1::text[])",
            [customers]
        ) {
            let id: String = try row.decode(0)
            cases[id]?.scored = try ScoredFigures(row: row)
        }
        for row in try connection.query(
            """
            SELECT customer_id, complaint_id, received_at, evaluated FROM alert_complaints
            WHERE customer_id = ANY($1::text[]) AND received_at > $2
            """,
            [customers, windowStart]
        ) {
            let id: String = try row.decode(0)
            let complaint = ComplaintSignal(complaintID: try row.decode(1), receivedAt: try row.decode(2))
            cases[id]?.complaints.append(complaint)
            if try !row.decode(3, as: Bool.self) { cases[id]?.newComplaintIDs.insert(complaint.complaintID) }
        }
        for row in try connection.query(
            """
            SELECT customer_id, complaint_id, rating, target, at FROM alert_complaint_facts
            WHERE customer_id = ANY($1::text[]) AND NOT evaluated
            """,
            [customers]
        ) {
            let id: String = try row.decode(0)
            cases[id]?.newComplaintFacts.append(
                ComplaintFact(
                    complaintID: try row.decode(1),
                    rating: try row.decodeIfPresent(2, as: Int.self),
                    breached: try row.decodeIfPresent(3, as: String.self).flatMap(SLATarget.init(rawValue:)),
                    at: try row.decode(4)
                )
            )
        }
        for row in try connection.query(
            """
            SELECT customer_id, reason, open FROM retention_alert_reasons
            WHERE customer_id = ANY($1::text[]) AND (open OR closed_at > $2)
            """,
            [customers, cooldownStart]
        ) {
            let id: String = try row.decode(0)
            guard let reason = AlertReason(rawValue: try row.decode(1)) else { continue }
            if try row.decode(2, as: Bool.self) {
                cases[id]?.openReasons.insert(reason)
            } else {
                cases[id]?.coolingReasons.insert(reason)
            }
        }
        for row in try connection.query(
            "SELECT customer_id, flag FROM customer_flags WHERE customer_id = ANY($1::text[])",
            [customers]
        ) {
            let id: String = try row.decode(0)
            guard let flag = CustomerFlag(rawValue: try row.decode(1)) else { continue }
            cases[id]?.flags.insert(flag)
        }
        return customers.compactMap { cases[$0] }
    }

    /// Writes alerts and their open reasons; `held` names the alerts kept back by the daily cap. A control alert's
    /// delivery is `control`: never published. Every alert starts `pending`, judged as of its `as_of`.
    static func insert(
        _ alerts: [PlannedAlert],
        held: Set<UUID>,
        on connection: isolated PostgresConnection
    ) throws {
        guard !alerts.isEmpty else { return }
        var ids: [UUID] = []
        var customers: [String] = []
        var raised: [Date] = []
        var scored: [Date] = []
        var priorities: [String] = []
        var reasons: [String] = []
        var values: [Decimal] = []
        var tiers: [String] = []
        var stages: [String] = []
        var actions: [String] = []
        var evidence: [String] = []
        var bodies: [String] = []
        var deliveries: [String] = []
        var groups: [String] = []
        var asOfs: [Date] = []
        for alert in alerts {
            ids.append(alert.alertID)
            customers.append(alert.customerID)
            raised.append(alert.raisedAt)
            scored.append(alert.figures.scoredAt)
            priorities.append(alert.priority.rawValue)
            reasons.append(alert.content.reasons.map(\.rawValue).joined(separator: ","))
            values.append(ScoredFigures.money(alert.content.valueAtRisk)?.decimal ?? 0)
            tiers.append(alert.content.standingTier.rawValue)
            stages.append(alert.figures.snapshot.stage.rawValue)
            actions.append(alert.content.suggestedAction)
            evidence.append(try AlertMessage.evidenceJSON(alert.evidence))
            bodies.append(String(decoding: alert.body, as: UTF8.self))
            deliveries.append(alert.group == .control ? "control" : held.contains(alert.alertID) ? "held" : "queued")
            groups.append(alert.group.rawValue)
            asOfs.append(alert.asOf)
        }
        try connection.execute(
            """
            INSERT INTO retention_alerts (alert_id, customer_id, raised_at, scored_at, priority, reasons, value_at_risk,
                tier, lifecycle_stage, suggested_action, evidence, body, delivery, queued_at, alert_group, as_of,
                outcome_as_of)
            SELECT a, c, r, s, p, string_to_array(rs, ','), v, t, st, act, ev::jsonb, b, d,
                   CASE WHEN d = 'queued' THEN now() END, g, ao, ao
            FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[],
                        $7::numeric[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                        $14::text[], $15::timestamptz[])
                 AS x(a, c, r, s, p, rs, v, t, st, act, ev, b, d, g, ao)
            """,
            [
                ids, customers, raised, scored, priorities, reasons, values, tiers, stages, actions, evidence, bodies,
                deliveries, groups, asOfs,
            ]
        )
        // The partial unique index on open reasons refuses a second open alert for a customer and reason: with the
        // per-customer locks it never fires, and if it did the transaction would fail rather than duplicate.
        let pairs = alerts.flatMap { alert in
            alert.content.reasons.map { (alert.alertID, alert.customerID, $0.rawValue) }
        }
        try connection.execute(
            """
            INSERT INTO retention_alert_reasons (alert_id, customer_id, reason)
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])
            """,
            [pairs.map(\.0), pairs.map(\.1), pairs.map(\.2)]
        )
    }

    /// Stores the evaluated figures as every customer's next "previous", and marks their complaints as weighed.
    static func save(_ evaluations: [Evaluation], now: Date, on connection: isolated PostgresConnection) throws {
        guard !evaluations.isEmpty else { return }
        let figures = evaluations.map(\.current)
        try connection.execute(
            """
            INSERT INTO alert_customer_state AS s (customer_id, scored_at, lifecycle_stage, tier, p_alive, clv_predicted,
                orders_count, expected_interval_days, days_since_last_order, last_order_at, evaluated_at)
            SELECT c, sa, st, t, pa, clv, o, ei, ds, lo, $11
            FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::int[],
                        $8::float8[], $9::float8[], $10::timestamptz[]) AS x(c, sa, st, t, pa, clv, o, ei, ds, lo)
            ON CONFLICT (customer_id) DO UPDATE SET
                scored_at = EXCLUDED.scored_at, lifecycle_stage = EXCLUDED.lifecycle_stage, tier = EXCLUDED.tier,
                p_alive = EXCLUDED.p_alive, clv_predicted = EXCLUDED.clv_predicted, orders_count = EXCLUDED.orders_count,
                expected_interval_days = EXCLUDED.expected_interval_days,
                days_since_last_order = EXCLUDED.days_since_last_order, last_order_at = EXCLUDED.last_order_at,
                evaluated_at = EXCLUDED.evaluated_at
            """,
            [
                evaluations.map(\.customerID), figures.map(\.scoredAt), figures.map(\.snapshot.stage.rawValue),
                figures.map(\.snapshot.tier.rawValue), figures.map(\.snapshot.pAlive),
                figures.map(\.snapshot.predictedValue), figures.map(\.snapshot.orderCount),
                figures.map(\.snapshot.expectedIntervalDays), figures.map(\.snapshot.daysSinceLastOrder),
                figures.map(\.lastOrderAt), now,
            ]
        )
        try connection.execute(
            "UPDATE alert_complaints SET evaluated = true WHERE customer_id = ANY($1::text[]) AND NOT evaluated",
            [evaluations.map(\.customerID)]
        )
        try connection.execute(
            "UPDATE alert_complaint_facts SET evaluated = true WHERE customer_id = ANY($1::text[]) AND NOT evaluated",
            [evaluations.map(\.customerID)]
        )
    }
}
