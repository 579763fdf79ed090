import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation

/// Decides and stores a batch of new complaints set-wise, in two statements: a lookup, then one atomic insert.
///
/// For each complaint: the customer as known (`CustomerLookup`), then classification, priority, desk and SLA
/// deadlines (`ComplaintPolicy.decide`), then one row in `complaints` and, in the same statement, the routed
/// complaint for `desk.<desk>` and (for customers at or above the signal tier) a signal for `crm-alerts` in the
/// outbox. A `complaint_id` already stored, or seen earlier in the batch, is a no-op with the same content and a
/// conflict, dead-lettered, with other content.
struct NewComplaintWriter {
    let policy: ComplaintPolicy
    let rulesVersion: Int
    let configuration: ComplaintsConfiguration
    /// Where routed complaints and signals are written (leased to this process's relay when it has room).
    let outbox: Outbox
    let now: Date

    /// A validated complaint at its position in the batch, with its body as received.
    struct Candidate: Sendable {
        var index: Int
        var message: ComplaintMessage
        var raw: String
    }

    /// One complaint routed by this transaction, for metrics and logs.
    struct Routed: Sendable {
        var complaintID: String
        var desk: String
        var category: String
        var priority: String
        var signalled: Bool
    }

    struct Outcome: Sendable {
        var routed: [Routed] = []
        var duplicates = 0
        var rejected: [(index: Int, rejection: MessageRejection)] = []
    }

    /// A decided complaint, ready to insert.
    private struct Row {
        var candidate: Candidate
        var record: CustomerLookup.Record
        var decision: ComplaintDecision
        var routedBody: String
        var nextCheckAt: Date?
        var signal: OutboundMessage?

        /// What the outbox publishes for this complaint: the routed complaint for its desk, and maybe a signal.
        var messages: [OutboundMessage] {
            let routed = OutboundMessage(
                exchange: Topology.desksExchange,
                routingKey: decision.routing.desk.queue,
                body: Data(routedBody.utf8),
                messageID: "\(candidate.message.complaintID.rawValue)/routed"
            )
            return [routed] + (signal.map { [$0] } ?? [])
        }
    }

    static let conflict = MessageRejection(
        .conflict,
        field: "complaint_id",
        "already received with different content; the first version stands"
    )

    /// Complaints whose id is stored already: the same content again is a duplicate (a redelivery), other content a
    /// conflict, dead-lettered; the first version stands either way.
    private func judge(
        _ candidates: [Candidate],
        _ outcome: inout Outcome,
        on connection: isolated PostgresConnection
    ) throws {
        var stored: [String: ComplaintMessage] = [:]
        for row in try connection.query(
            "SELECT complaint_id, message FROM complaints WHERE complaint_id = ANY($1::text[])",
            [candidates.map(\.message.complaintID.rawValue)]
        ) {
            let text: String = try row.decode(1)
            stored[try row.decode(0)] = try? ComplaintMessage.decode(body: Data(text.utf8))
        }
        for candidate in candidates {
            if let known = stored[candidate.message.complaintID.rawValue], known != candidate.message {
                outcome.rejected.append((candidate.index, Self.conflict))
            } else {
                outcome.duplicates += 1
            }
        }
    }

    /// When the SLA clocks start: `received_at`, or now when a sender's clock ran ahead (the inbox refuses more than a
    /// day ahead). The routed complaint keeps `received_at` as sent.
    func received(_ message: ComplaintMessage) -> Date {
        min(message.receivedAt.date, now)
    }

    func write(_ candidates: [Candidate], on connection: isolated PostgresConnection) throws -> Outcome {
        var outcome = Outcome()
        guard !candidates.isEmpty else { return outcome }

        // 1. Repeats earlier in the batch (a duplicate, or a conflict with other content); then the customers as
        //    known, and which complaints are stored already.
        var first: [String: ComplaintMessage] = [:]
        var fresh: [Candidate] = []
        for candidate in candidates {
            let id = candidate.message.complaintID.rawValue
            if let earlier = first[id] {
                if earlier == candidate.message {
                    outcome.duplicates += 1
                } else {
                    outcome.rejected.append((candidate.index, Self.conflict))
                }
                continue
            }
            first[id] = candidate.message
            fresh.append(candidate)
        }
        let window = TimeInterval(policy.rules.classification.repeatComplaints.recentWindowDays) * 86_400
        var records = try CustomerLookup.records(
            for: fresh.map {
                (
                    $0.message.complaintID.rawValue, $0.message.customerID.rawValue,
                    received($0.message).addingTimeInterval(-window)
                )
            },
            on: connection
        )
        let stored = Set(zip(fresh, records).filter { $1.stored }.map { $0.0.message.complaintID.rawValue })
        if !stored.isEmpty {
            try judge(fresh.filter { stored.contains($0.message.complaintID.rawValue) }, &outcome, on: connection)
            records = zip(fresh, records).filter { !$1.stored }.map(\.1)
            fresh.removeAll { stored.contains($0.message.complaintID.rawValue) }
        }
        guard !fresh.isEmpty else { return outcome }

        // 2. Earlier complaints of this batch count as the customer's too.
        var earlier: [String: [Date]] = [:]
        for (position, candidate) in fresh.enumerated() {
            let customer = candidate.message.customerID.rawValue
            let received = received(candidate.message)
            let before = earlier[customer] ?? []
            records[position].snapshot.openComplaints += before.count
            records[position].snapshot.recentComplaints +=
                before.filter { $0 >= received.addingTimeInterval(-window) }.count
            earlier[customer] = before + [received]
        }

        // 3. Decide each; a routed complaint that would not encode is dead-lettered, never the whole batch.
        var rows: [Row] = []
        for (candidate, record) in zip(fresh, records) {
            do {
                rows.append(try decide(candidate, record))
            } catch {
                outcome.rejected.append((candidate.index, error))
            }
        }
        guard !rows.isEmpty else { return outcome }

        // 4. Store, and in the same statement queue the messages of the complaints this transaction inserted: a
        //    complaint another replica stored meanwhile is a duplicate and publishes nothing.
        let inserted = try insert(rows, on: connection)
        let written = rows.filter { inserted.contains($0.candidate.message.complaintID.rawValue) }
        if written.count < rows.count {
            let raced = rows.filter { !inserted.contains($0.candidate.message.complaintID.rawValue) }.map(\.candidate)
            try judge(raced, &outcome, on: connection)
        }
        outcome.routed = written.map { row in
            Routed(
                complaintID: row.candidate.message.complaintID.rawValue,
                desk: row.decision.routing.desk.name,
                category: row.decision.category.rawValue,
                priority: row.decision.priority.rawValue,
                signalled: row.signal != nil
            )
        }
        return outcome
    }

    private func decide(_ candidate: Candidate, _ record: CustomerLookup.Record) throws(MessageRejection) -> Row {
        let message = candidate.message
        let facts = ComplaintFacts(
            receivedAt: received(message),
            channel: message.channel,
            subject: message.subject,
            body: message.body,
            categoryHint: message.categoryHint,
            language: message.language
        )
        let snapshot = record.snapshot
        let decision = policy.decide(facts, customer: snapshot)
        let routed = RoutedComplaint(
            complaint: message,
            category: decision.category.rawValue,
            severity: decision.severity,
            priority: decision.priority,
            desk: decision.routing.desk.name,
            matchedRule: decision.routing.matchedRule,
            customer: RoutedComplaint.Customer(
                tier: snapshot.tier.valueTier,
                lifecycleStage: snapshot.lifecycleStage,
                clv: snapshot.clv.flatMap { try? Money($0.rounded(scale: Money.maximumFractionDigits)) },
                ordersCount: record.known ? snapshot.ordersCount : nil,
                openComplaints: snapshot.openComplaints + 1
            ),
            sla: RoutedComplaint.SLA(
                firstResponseDue: Timestamp(decision.deadlines.firstResponseDue ?? .distantFuture),
                resolutionDue: Timestamp(decision.deadlines.resolutionDue ?? .distantFuture)
            ),
            escalationLevel: 0
        )
        // The complaint as received, with routing's fields beside it (cut to 256 KiB with a marker if need be).
        let body = String(decoding: try routed.encodedBody(received: Data(candidate.raw.utf8)), as: UTF8.self)
        let plan = policy.escalationPlan(
            for: decision.clock,
            priority: decision.priority,
            desk: decision.routing.desk.name,
            progress: .init(),
            now: now
        )
        var signal: OutboundMessage?
        if configuration.signals(snapshot.tier) {
            let event = ComplaintSignalEvent(
                complaintID: message.complaintID,
                customerID: message.customerID,
                tier: snapshot.tier.valueTier,
                severity: decision.severity,
                receivedAt: message.receivedAt
            )
            signal = OutboundMessage(
                exchange: Topology.eventsExchange,
                routingKey: Topology.EventKey.complaintSignal,
                body: try event.encodedBody(),
                messageID: "\(message.complaintID.rawValue)/signal"
            )
        }
        return Row(
            candidate: candidate,
            record: record,
            decision: decision,
            routedBody: body,
            nextCheckAt: plan.isEmpty ? plan.nextCheckAt : now,
            signal: signal
        )
    }

    /// Inserts the rows and queues their messages in `crm_outbox` (the rows `Outbox.enqueue` writes), in one
    /// statement so that only complaints this transaction inserted are published, leased to this process's relay
    /// when it has room (`OutboxLease`), which publishes them at commit; returns the complaints' ids.
    private func insert(_ rows: [Row], on connection: isolated PostgresConnection) throws -> Set<String> {
        // Lists of varying length travel as one text per row, split in SQL on the unit separator (U+001F), which
        // neither a keyword nor a signal name contains.
        func list(_ values: [String]) -> String { values.joined(separator: "\u{1F}") }
        let messages = rows.map(\.candidate.message)
        let decisions = rows.map(\.decision)
        let snapshots = rows.map(\.record.snapshot)
        let outbound = rows.flatMap { row in row.messages.map { (row.candidate.message.complaintID.rawValue, $0) } }
        let lease = outbox.lease(outbound.count, on: connection)
        // The batch's trace context, stored with every routed message so the relay's publish continues the trace.
        let traceHeaders = Outbox.traceHeaders
        let parameters: [(any PostgresEncodable)?] = [
            messages.map(\.complaintID.rawValue), messages.map(\.customerID.rawValue), messages.map(received),
            messages.map(\.channel), messages.map(\.language), messages.map { $0.orderID?.rawValue },
            messages.map(\.categoryHint), messages.map(\.subject), messages.map(\.body), rows.map(\.candidate.raw),
            decisions.map(\.category.rawValue), decisions.map(\.classification.categorySource.rawValue),
            decisions.map(\.classification.score), decisions.map(\.severity.rawValue),
            decisions.map(\.priority.rawValue), decisions.map { list($0.classification.signals) },
            decisions.map { list($0.classification.matched) }, decisions.map(\.routing.desk.name),
            decisions.map(\.routing.matchedRule), rulesVersion,
            snapshots.map { $0.tier == .unknown ? nil : $0.tier.rawValue },
            snapshots.map { $0.lifecycleStage?.rawValue },
            snapshots.map(\.clv), rows.map { $0.record.known ? $0.record.snapshot.ordersCount : nil },
            snapshots.map { $0.openComplaints + 1 }, rows.map(\.routedBody),
            decisions.map(\.deadlines.firstResponseDue), decisions.map(\.deadlines.resolutionDue),
            rows.map(\.nextCheckAt),
            outbox.source, outbound.map(\.0), outbound.map(\.1.exchange), outbound.map(\.1.routingKey),
            outbound.map(\.1.messageID), outbound.map { String(decoding: $0.1.body, as: UTF8.self) },
            lease?.milliseconds, Outbox.headersJSON(traceHeaders),
        ]
        let returned = try connection.query(
            """
            WITH inserted AS (
                INSERT INTO complaints (
                    complaint_id, customer_id, received_at, channel, language, order_id, category_hint, subject, body,
                    message, category, category_source, category_score, severity, priority, signals, matched, desk,
                    matched_rule, rules_version, customer_tier, lifecycle_stage, clv, orders_count, open_complaints,
                    routed, first_response_due, resolution_due, next_check_at)
                SELECT id, cu, rat, ch, lang, ord, hint, subj, bod, msg, cat, src, sc, sev, pri,
                       string_to_array(sig, chr(31)), string_to_array(mat, chr(31)),
                       dsk, rul, $20::integer, tier, stage, clv, oc, open, routed, frd, rd, nxt
                FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[],
                            $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::integer[], $14::text[],
                            $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $21::text[], $22::text[],
                            $23::numeric[], $24::integer[], $25::integer[], $26::text[], $27::timestamptz[],
                            $28::timestamptz[], $29::timestamptz[])
                    AS t(id, cu, rat, ch, lang, ord, hint, subj, bod, msg, cat, src, sc, sev, pri, sig, mat, dsk, rul,
                         tier, stage, clv, oc, open, routed, frd, rd, nxt)
                ON CONFLICT (complaint_id) DO NOTHING
                RETURNING complaint_id
            ), queued AS (
                INSERT INTO crm_outbox (source, exchange, routing_key, message_id, body, headers, claimed_until)
                SELECT $30, m.exchange, m.routing_key, m.message_id, m.body, coalesce($37::jsonb, '{}'::jsonb),
                       now() + $36::integer * interval '1 millisecond'
                FROM unnest($31::text[], $32::text[], $33::text[], $34::text[], $35::text[]) WITH ORDINALITY
                    AS m(complaint_id, exchange, routing_key, message_id, body, n)
                JOIN inserted USING (complaint_id)
                ORDER BY m.n
                RETURNING \(Outbox.returnedColumns)
            )
            SELECT complaint_id, NULL::bigint, NULL, NULL, NULL, NULL FROM inserted
            UNION ALL
            SELECT NULL, \(Outbox.returnedColumns) FROM queued WHERE $36::integer IS NOT NULL
            """,
            parameters
        )
        // The complaints inserted, then (when the relay took a lease) the outbox rows to hand it.
        var inserted: Set<String> = []
        var queued: [PostgresRow] = []
        for row in returned {
            if let complaintID = try row.decodeIfPresent(0, as: String.self) {
                inserted.insert(complaintID)
            } else {
                queued.append(row)
            }
        }
        try lease?.handOff(queued, from: 1, headers: traceHeaders)
        return inserted
    }
}
