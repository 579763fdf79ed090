import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation

/// One sweep inside one transaction: what `SLASweeper` runs on a connection.
struct SLASweep {
    let policy: ComplaintPolicy
    /// Where warnings and escalations are written.
    let outbox: Outbox
    let now: Date
    let batchSize: Int

    struct Warning: Sendable {
        var complaintID: String
        var desk: String
        var target: SLATarget
    }

    struct Escalation: Sendable {
        var complaintID: String
        var desk: String
        var level: Int
        var target: SLATarget
    }

    struct Breach: Sendable {
        var desk: String
        var target: SLATarget
    }

    struct Result: Sendable {
        var swept = false
        var examined = 0
        var warnings: [Warning] = []
        var escalations: [Escalation] = []
        var breaches: [Breach] = []
    }

    /// A complaint due for a look, as stored.
    private struct Due {
        var id: String
        var receivedAt: Date
        var priority: ComplaintPriority
        var desk: String
        var level: Int
        var routed: String
        var firstResponseOutcome: String?
        var resolutionOutcome: String?
        var warned: Set<SLATarget>
    }

    /// What the plan said for one complaint.
    private struct Planned {
        var due: Due
        var clock: SLAClock
        var warnings: [SLATarget]
        var escalations: [EscalationPlan.Escalation]
        var progress: EscalationProgress
        var nextCheckAt: Date?
    }

    func run(on connection: isolated PostgresConnection) throws -> Result {
        var result = Result()
        guard
            try connection.query("SELECT pg_try_advisory_xact_lock($1)", [SLASweeper.lockKey])[0].decode(
                0,
                as: Bool.self
            )
        else { return result }
        result.swept = true
        let due = try dueComplaints(on: connection)
        result.examined = due.count
        guard !due.isEmpty else { return result }
        let histories = try history(of: due.map(\.id), on: connection)
        let planned = due.map { plan($0, history: histories[$0.id] ?? []) }

        // Record first: the primary keys refuse a level or a warning already recorded, whatever happened before.
        let escalated = try recordEscalations(planned, on: connection)
        let warned = try recordWarnings(planned, on: connection)

        var messages: [OutboundMessage] = []
        var fresh: [String: (firstResponse: String?, resolution: String?)] = [:]
        /// Records the first breach of the resolution target at `at` as the complaint's outcome, with the signal that
        /// is `complaint_unresolved` to alerts.
        func resolutionBreached(_ item: Planned, _ routed: RoutedComplaint, at: Date) throws {
            fresh[item.due.id, default: (nil, nil)].resolution = "breached"
            result.breaches.append(Breach(desk: item.due.desk, target: .resolution))
            let signal = ComplaintSignalEvent(
                complaintID: routed.complaint.complaintID,
                customerID: routed.complaint.customerID,
                tier: routed.customer.tier,
                severity: routed.severity,
                receivedAt: routed.complaint.receivedAt,
                breached: .resolution,
                at: Timestamp(at)
            )
            messages.append(
                OutboundMessage(
                    exchange: Topology.eventsExchange,
                    routingKey: Topology.EventKey.complaintSignal,
                    body: try signal.encodedBody(),
                    messageID: "\(item.due.id)/breach/resolution"
                )
            )
        }
        for item in planned {
            let id = item.due.id
            let levels = item.escalations.filter { escalated.contains("\(id)/\($0.level)") }
            let targets = item.warnings.filter { warned.contains("\(id)/\($0.rawValue)") }
            // A resolution breach with no escalation level left for it (the first response's breaches used them up).
            let unescalated =
                item.due.resolutionOutcome == nil && item.clock.isRunning(.resolution)
                    && !item.escalations.contains { $0.target == .resolution }
                ? dueInstant(of: .resolution, item).flatMap { $0 <= now ? $0 : nil } : nil
            guard !levels.isEmpty || !targets.isEmpty || unescalated != nil else { continue }
            let routed = try RoutedComplaint.decode(body: Data(item.due.routed.utf8))
            for escalation in levels {
                // The routed complaint as first published, every member as it stands, with the new level.
                messages.append(
                    OutboundMessage(
                        exchange: Topology.desksExchange,
                        routingKey: Desk.escalationsQueue,
                        body: try RoutedComplaint.escalated(Data(item.due.routed.utf8), to: escalation.level),
                        messageID: "\(id)/escalation/\(escalation.level)"
                    )
                )
                result.escalations.append(
                    Escalation(complaintID: id, desk: item.due.desk, level: escalation.level, target: escalation.target)
                )
                // The first breach of a target is its SLA outcome, unless the clock already stopped within it.
                let recorded =
                    escalation.target == .firstResponse ? item.due.firstResponseOutcome : item.due.resolutionOutcome
                var entry = fresh[id] ?? (nil, nil)
                let already = escalation.target == .firstResponse ? entry.firstResponse : entry.resolution
                if recorded == nil && already == nil {
                    if escalation.target == .firstResponse {
                        entry.firstResponse = "breached"
                        fresh[id] = entry
                        result.breaches.append(Breach(desk: item.due.desk, target: escalation.target))
                    } else {
                        // An open complaint past its resolution target: the fact behind `complaint_unresolved`.
                        try resolutionBreached(item, routed, at: escalation.breachedAt)
                    }
                }
            }
            if let unescalated, fresh[id]?.resolution == nil {
                try resolutionBreached(item, routed, at: unescalated)
            }
            for target in targets {
                let dueAt = dueInstant(of: target, item) ?? now
                let warning = SLAWarningMessage(
                    complaintID: routed.complaint.complaintID,
                    customerID: routed.complaint.customerID,
                    desk: routed.desk,
                    category: routed.category,
                    severity: routed.severity,
                    priority: routed.priority,
                    target: target,
                    dueAt: Timestamp(dueAt),
                    warnedAt: Timestamp(now),
                    escalationLevel: item.progress.level
                )
                messages.append(
                    OutboundMessage(
                        exchange: Topology.desksExchange,
                        routingKey: "desk.\(item.due.desk)",
                        body: try warning.encodedBody(),
                        messageID: "\(id)/warning/\(target.rawValue)"
                    )
                )
                result.warnings.append(Warning(complaintID: id, desk: item.due.desk, target: target))
            }
        }
        try outbox.enqueue(messages, on: connection)

        try connection.execute(
            """
            UPDATE complaints k SET escalation_level = GREATEST(k.escalation_level, u.lvl), next_check_at = u.nxt,
                first_response_outcome = COALESCE(k.first_response_outcome, u.fro),
                resolution_outcome = COALESCE(k.resolution_outcome, u.ro), updated_at = now()
            FROM unnest($1::text[], $2::integer[], $3::timestamptz[], $4::text[], $5::text[]) AS u(id, lvl, nxt, fro, ro)
            WHERE k.complaint_id = u.id
            """,
            [
                planned.map(\.due.id), planned.map(\.progress.level), planned.map(\.nextCheckAt),
                planned.map { fresh[$0.due.id]?.firstResponse }, planned.map { fresh[$0.due.id]?.resolution },
            ]
        )
        return result
    }

    // MARK: - Reading

    private func dueComplaints(on connection: isolated PostgresConnection) throws -> [Due] {
        // SKIP LOCKED: a complaint a status update holds right now is looked at next round, after its update.
        try connection.query(
            """
            SELECT c.complaint_id, c.received_at, c.priority, c.desk, c.escalation_level, c.routed,
                   c.first_response_outcome, c.resolution_outcome,
                   (SELECT string_agg(w.target, ',') FROM complaint_sla_warnings w WHERE w.complaint_id = c.complaint_id)
            FROM complaints c
            WHERE c.next_check_at <= $1
            ORDER BY c.next_check_at
            LIMIT $2
            FOR UPDATE OF c SKIP LOCKED
            """,
            [now, batchSize]
        ).map { row in
            let warned = (try row.decodeIfPresent(8, as: String.self) ?? "").split(separator: ",")
                .compactMap { SLATarget(rawValue: String($0)) }
            return Due(
                id: try row.decode(0),
                receivedAt: try row.decode(1),
                priority: ComplaintPriority(rawValue: try row.decode(2)) ?? .p1,
                desk: try row.decode(3),
                level: try row.decode(4),
                routed: try row.decode(5),
                firstResponseOutcome: try row.decodeIfPresent(6),
                resolutionOutcome: try row.decodeIfPresent(7),
                warned: Set(warned)
            )
        }
    }

    private func history(
        of ids: [String],
        on connection: isolated PostgresConnection
    ) throws -> [String: [(
        status: ComplaintStatus, at: Date
    )]] {
        var history: [String: [(status: ComplaintStatus, at: Date)]] = [:]
        for row in try connection.query(
            "SELECT complaint_id, status, at FROM complaint_status_events WHERE complaint_id = ANY($1::text[]) ORDER BY at, id",
            [ids]
        ) {
            guard let status = ComplaintStatus(rawValue: try row.decode(1)) else { continue }
            history[try row.decode(0), default: []].append((status, try row.decode(2)))
        }
        return history
    }

    // MARK: - Planning

    /// Every escalation due now (missed ones caught up, one level at a time) and the warnings due.
    private func plan(_ due: Due, history: [(status: ComplaintStatus, at: Date)]) -> Planned {
        let clock = SLAClock(receivedAt: due.receivedAt, history: history)
        var progress = EscalationProgress(level: due.level, warned: due.warned)
        var escalations: [EscalationPlan.Escalation] = []
        var warnings: [SLATarget] = []
        var plan: EscalationPlan
        repeat {
            plan = policy.escalationPlan(
                for: clock,
                priority: due.priority,
                desk: due.desk,
                progress: progress,
                now: now
            )
            if let escalation = plan.escalation { escalations.append(escalation) }
            warnings += plan.warnings.filter { !warnings.contains($0) }
            progress = plan.progress
        } while plan.escalation != nil
        return Planned(
            due: due,
            clock: clock,
            warnings: warnings,
            escalations: escalations,
            progress: progress,
            nextCheckAt: plan.nextCheckAt
        )
    }

    /// When a target's clock reaches its allowance, in the desk's working time.
    private func dueInstant(of target: SLATarget, _ item: Planned) -> Date? {
        item.clock.instant(
            whenElapsed: policy.rules.sla.allowance(target, for: item.due.priority),
            of: target,
            in: policy.workingTime(ofDesk: item.due.desk)
        )
    }

    // MARK: - Recording

    /// Inserts the planned escalations; returns `<complaint>/<level>` of those this transaction recorded.
    private func recordEscalations(
        _ planned: [Planned],
        on connection: isolated PostgresConnection
    ) throws -> Set<String> {
        let rows = planned.flatMap { item in item.escalations.map { (item.due, $0) } }
        guard !rows.isEmpty else { return [] }
        let inserted = try connection.query(
            """
            INSERT INTO complaint_escalations (complaint_id, level, target, breached_at, desk)
            SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::timestamptz[], $5::text[])
            ON CONFLICT (complaint_id, level) DO NOTHING
            RETURNING complaint_id, level
            """,
            [
                rows.map(\.0.id), rows.map(\.1.level), rows.map(\.1.target.rawValue), rows.map(\.1.breachedAt),
                rows.map(\.0.desk),
            ]
        )
        return Set(try inserted.map { "\(try $0.decode(0, as: String.self))/\(try $0.decode(1, as: Int.self))" })
    }

    /// Inserts the planned warnings; returns `<complaint>/<target>` of those this transaction recorded.
    private func recordWarnings(_ planned: [Planned], on connection: isolated PostgresConnection) throws -> Set<String>
    {
        let rows = planned.flatMap { item in item.warnings.map { (item, $0) } }
        guard !rows.isEmpty else { return [] }
        let inserted = try connection.query(
            """
            INSERT INTO complaint_sla_warnings (complaint_id, target, due_at, desk)
            SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[])
            ON CONFLICT (complaint_id, target) DO NOTHING
            RETURNING complaint_id, target
            """,
            [
                rows.map(\.0.due.id), rows.map(\.1.rawValue), rows.map { dueInstant(of: $0.1, $0.0) ?? now },
                rows.map(\.0.due.desk),
            ]
        )
        return Set(try inserted.map { "\(try $0.decode(0, as: String.self))/\(try $0.decode(1, as: String.self))" })
    }
}
