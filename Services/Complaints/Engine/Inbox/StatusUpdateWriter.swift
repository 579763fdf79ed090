import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation

/// Applies a batch of desks' status updates inside the caller's transaction.
///
/// Each update is stored once (the same complaint, status and instant again is a no-op), then the complaint's SLA
/// clock is rebuilt from all its updates in time order, so updates may arrive in any order. Acknowledging stops the
/// first-response clock, resolving stops both, reopening resumes the resolution clock; the sweeper is asked to look
/// at the complaint again at once. An update for a complaint never routed is dead-lettered.
///
/// When a clock stops for the first time its outcome is recorded: met when it stopped within its target (in the
/// desk's working time), breached otherwise. The first outcome per target stands.
///
/// An update counts at its `at`, but never before the complaint was routed (no desk could act on it sooner: a
/// back-dated acknowledgement meets no target it missed) nor after it was received here (a desk's clock running
/// ahead breaches nothing); the update is stored as sent.
///
/// A rating (`satisfaction`) is kept on the complaint: the one of the update with the latest `at`. A new rating of 1 or
/// 2 is signalled to `crm-alerts` (`complaint.signal` with `satisfaction`), in the same transaction.
struct StatusUpdateWriter {
    let policy: ComplaintPolicy
    let now: Date
    /// Where the signals of low ratings are written.
    var outbox: Outbox?

    /// A validated status update at its position in the batch, with its body as received.
    struct Candidate: Sendable {
        var index: Int
        var message: ComplaintStatusMessage
        var raw: String
    }

    /// A clock that stopped for the first time, for the SLA metrics.
    struct Stop: Sendable {
        var desk: String
        var target: SLATarget
        var met: Bool
        /// From receipt to the stop, wall-clock seconds.
        var elapsed: TimeInterval
    }

    struct Outcome: Sendable {
        var rejected: [(index: Int, rejection: MessageRejection)] = []
        var applied = 0
        var duplicates = 0
        var stops: [Stop] = []
        /// Ratings stored by this batch, for the metrics.
        var ratings: [(desk: String, rating: Int)] = []
        /// Low ratings signalled to alerts.
        var lowRatings = 0
    }

    private struct Complaint {
        var receivedAt: Date
        var priority: ComplaintPriority
        var desk: String
        var firstResponseOutcome: String?
        var resolutionOutcome: String?
        var customerID: String
        var severity: ComplaintSeverity
    }

    func write(_ candidates: [Candidate], on connection: isolated PostgresConnection) throws -> Outcome {
        var outcome = Outcome()
        guard !candidates.isEmpty else { return outcome }
        let ids = Array(Set(candidates.map(\.message.complaintID.rawValue))).sorted()

        // 1. The complaints, locked against the sweeper and other replicas; unknown ones are dead letters.
        var complaints: [String: Complaint] = [:]
        for row in try connection.query(
            """
            SELECT complaint_id, received_at, priority, desk, first_response_outcome, resolution_outcome, customer_id,
                   severity
            FROM complaints WHERE complaint_id = ANY($1::text[]) ORDER BY complaint_id FOR UPDATE
            """,
            [ids]
        ) {
            complaints[try row.decode(0)] = Complaint(
                receivedAt: try row.decode(1),
                priority: ComplaintPriority(rawValue: try row.decode(2)) ?? .p1,
                desk: try row.decode(3),
                firstResponseOutcome: try row.decodeIfPresent(4),
                resolutionOutcome: try row.decodeIfPresent(5),
                customerID: try row.decode(6),
                severity: ComplaintSeverity(rawValue: try row.decode(7)) ?? .medium
            )
        }
        var known: [Candidate] = []
        for candidate in candidates {
            if complaints[candidate.message.complaintID.rawValue] == nil {
                outcome.rejected.append(
                    (
                        candidate.index,
                        MessageRejection(
                            .unknownReference,
                            field: "complaint_id",
                            "no complaint with this id was received; a status needs its complaint"
                        )
                    )
                )
            } else {
                known.append(candidate)
            }
        }
        guard !known.isEmpty else { return outcome }

        // 2. Store the updates once each.
        let messages = known.map(\.message)
        let inserted = try connection.query(
            """
            INSERT INTO complaint_status_events (complaint_id, status, at, agent, resolution, satisfaction, message)
            SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::smallint[],
                                 $7::text[])
            ON CONFLICT (complaint_id, status, at) DO NOTHING
            RETURNING id, complaint_id, satisfaction, at
            """,
            [
                messages.map(\.complaintID.rawValue), messages.map(\.status.rawValue), messages.map(\.at.date),
                messages.map(\.agent), messages.map(\.resolution), messages.map(\.satisfaction), known.map(\.raw),
            ]
        )
        outcome.applied = inserted.count
        outcome.duplicates = known.count - inserted.count
        try keepRatings(inserted, complaints: complaints, outcome: &outcome, on: connection)

        // 3. Rebuild each clock from its whole history and record where it stands.
        let touched = Array(Set(messages.map(\.complaintID.rawValue))).sorted()
        var history: [String: [(status: ComplaintStatus, at: Date)]] = [:]
        for row in try connection.query(
            """
            SELECT e.complaint_id, e.status, least(greatest(e.at, k.routed_at), e.received_at) AS effective
            FROM complaint_status_events e JOIN complaints k ON k.complaint_id = e.complaint_id
            WHERE e.complaint_id = ANY($1::text[]) ORDER BY effective, e.id
            """,
            [touched]
        ) {
            guard let status = ComplaintStatus(rawValue: try row.decode(1)) else { continue }
            history[try row.decode(0), default: []].append((status, try row.decode(2)))
        }
        var states: [String?] = []
        var responded: [Date?] = []
        var resolved: [Date?] = []
        var firstResponseOutcomes: [String?] = []
        var resolutionOutcomes: [String?] = []
        var nextChecks: [Date?] = []
        var stops: [Stop] = []
        for id in touched {
            guard let complaint = complaints[id] else { continue }
            let clock = SLAClock(receivedAt: complaint.receivedAt, history: history[id] ?? [])
            states.append(clock.state.rawValue)
            responded.append(clock.respondedAt)
            let resolvedAt = clock.state == .resolved ? clock.periods(of: .resolution).last?.end : nil
            resolved.append(resolvedAt)
            let time = policy.workingTime(ofDesk: complaint.desk)
            func settle(_ target: SLATarget, stoppedAt stop: Date?, recorded: String?) -> String? {
                guard recorded == nil, let stop else { return recorded }
                let allowance = policy.rules.sla.allowance(target, for: complaint.priority)
                // A clock that stopped before using up its allowance never reaches it: met.
                let met = clock.instant(whenElapsed: allowance, of: target, in: time) == nil
                stops.append(
                    Stop(
                        desk: complaint.desk,
                        target: target,
                        met: met,
                        elapsed: stop.timeIntervalSince(complaint.receivedAt)
                    )
                )
                return met ? "met" : "breached"
            }
            firstResponseOutcomes.append(
                settle(.firstResponse, stoppedAt: clock.respondedAt, recorded: complaint.firstResponseOutcome)
            )
            resolutionOutcomes.append(settle(.resolution, stoppedAt: resolvedAt, recorded: complaint.resolutionOutcome))
            nextChecks.append(clock.state == .resolved ? nil : now)
        }
        outcome.stops = stops
        try connection.execute(
            """
            UPDATE complaints k SET state = u.st, responded_at = u.resp, resolved_at = u.res,
                first_response_outcome = COALESCE(k.first_response_outcome, u.fro),
                resolution_outcome = COALESCE(k.resolution_outcome, u.ro),
                next_check_at = u.nxt, updated_at = now()
            FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[],
                        $7::timestamptz[]) AS u(id, st, resp, res, fro, ro, nxt)
            WHERE k.complaint_id = u.id
            """,
            [touched, states, responded, resolved, firstResponseOutcomes, resolutionOutcomes, nextChecks]
        )
        return outcome
    }

    /// Keeps each rated complaint's latest rating and signals the new low ones to alerts.
    private func keepRatings(
        _ inserted: [PostgresRow],
        complaints: [String: Complaint],
        outcome: inout Outcome,
        on connection: isolated PostgresConnection
    ) throws {
        var rated: [String] = []
        var signals: [OutboundMessage] = []
        for row in inserted {
            guard let rating = try row.decodeIfPresent(2, as: Int.self) else { continue }
            let id: String = try row.decode(1)
            guard let complaint = complaints[id] else { continue }
            rated.append(id)
            outcome.ratings.append((complaint.desk, rating))
            guard rating <= 2, outbox != nil else { continue }
            let event = ComplaintSignalEvent(
                complaintID: try Identifier(id),
                customerID: try Identifier(complaint.customerID),
                severity: complaint.severity,
                receivedAt: Timestamp(complaint.receivedAt),
                satisfaction: rating,
                at: Timestamp(try row.decode(3, as: Date.self))
            )
            signals.append(
                OutboundMessage(
                    exchange: Topology.eventsExchange,
                    routingKey: Topology.EventKey.complaintSignal,
                    body: try event.encodedBody(),
                    messageID: "\(id)/rating/\(try row.decode(0, as: Int64.self))"
                )
            )
        }
        guard !rated.isEmpty else { return }
        try connection.execute(
            """
            UPDATE complaints k SET satisfaction = e.satisfaction, satisfaction_at = e.at
            FROM (SELECT DISTINCT ON (complaint_id) complaint_id, satisfaction, at FROM complaint_status_events
                  WHERE complaint_id = ANY($1::text[]) AND satisfaction IS NOT NULL
                  ORDER BY complaint_id, at DESC, id DESC) e
            WHERE k.complaint_id = e.complaint_id
              AND (k.satisfaction, k.satisfaction_at) IS DISTINCT FROM (e.satisfaction, e.at)
            """,
            [Array(Set(rated)).sorted()]
        )
        try outbox?.enqueue(signals, on: connection)
        outcome.lowRatings = signals.count
    }
}
