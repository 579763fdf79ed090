import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSchema
import CRMSupport
import Foundation
import Metrics

/// Lifecycle events for marketing tools (`customer-lifecycle.v1` on `crm.lifecycle`), written into scoring's outbox
/// in the transaction of the scores they announce.
///
/// A stage change is announced when a customer's stored stage differs from its `announced_stage`, the stage of its
/// previous event; the same statement that reads it sets it, under the row's lock, so each change is announced once
/// whichever replica, incremental batch or full rescoring writes it, and a score another scoring overtook is not
/// announced at all. A customer flagged `opt_out` is marked announced without an event: nothing about it reaches
/// the exchange. A replay (a full rescoring as of a past time) does not announce: `announced_stage` stays what the
/// marketing tools were told, and the next scoring of the present announces only real changes since.
enum LifecycleAnnouncements {
    static let stageEvents = Counter(
        label: "crm_scoring_lifecycle_events_total",
        dimensions: [("event", "stage_changed")]
    )
    static let dueEvents = Counter(label: "crm_scoring_lifecycle_events_total", dimensions: [("event", "purchase_due")])
    static let suppressed = Counter(label: "crm_scoring_lifecycle_suppressed_total", dimensions: [("flag", "opt_out")])

    /// A row read for an event: the stored score's figures.
    struct Row {
        var customerID: String
        var previous: LifecycleStage?
        var stage: LifecycleStage
        var rule: String?
        var tier: ValueTier
        var at: Date
        var clv: String?
        var pAlive: Double?
        var lastOrderAt: Date?
        var expectedAt: Date?
        var optedOut: Bool
    }

    /// What ``row(_:)`` reads of a stored score whose stage differs from the one last announced.
    private static let stageChangeColumns = """
        SELECT s.customer_id, s.announced_stage, s.lifecycle_stage, s.lifecycle_rule, s.tier,
               date_part('epoch', \(Schema.scoreAsOf("s"))), s.clv_predicted::text, s.p_alive,
               date_part('epoch', s.last_order_at), NULL::float8,
               EXISTS (SELECT 1 FROM customer_flags f WHERE f.customer_id = s.customer_id AND f.flag = 'opt_out')
        """

    /// The stored scores of `scoring_stage`'s customers whose stage differs from the one last announced.
    private static let stageChangeRows = """
        \(stageChangeColumns)
        FROM scoring_stage st JOIN customer_scores s ON s.customer_id = st.customer_id
        WHERE s.announced_stage IS DISTINCT FROM s.lifecycle_stage
        """

    /// Every stored score whose stage differs from the one last announced, read from the partial index that holds
    /// only those (`customer_scores_unannounced`).
    private static let unannouncedRows = """
        \(stageChangeColumns)
        FROM customer_scores s
        WHERE s.announced_stage IS DISTINCT FROM s.lifecycle_stage
        """

    /// The events of the stage changes of the customers in `scoring_stage` (the scores this transaction wrote), marked
    /// announced: the caller enqueues them in the same transaction, with its other events (one hand-off to the relay).
    static func stageChanges(
        playbook: LifecyclePlaybook,
        on connection: isolated PostgresConnection
    ) throws -> [OutboundMessage] {
        let rows = try connection.query(stageChangeRows + " ORDER BY s.customer_id FOR UPDATE OF s").map(Self.row)
        return try announce(rows, playbook: playbook, on: connection)
    }

    /// Announces every stage change not announced yet into `outbox`: what a full rescoring of the present does after
    /// writing every customer's score. `slice` customers at a time through a cursor, so that memory stays bounded
    /// however many changed (every customer of a base first scored by a replay, say). Returns the number of events.
    ///
    /// Every unannounced score, not only the staged ones: the rows the run did not write (overtaken by an incremental
    /// scoring, which announces its own under the same row lock) are announced by whichever transaction locks them
    /// first, and the other finds them announced. Read from `customer_scores_unannounced`, a partial index of those
    /// rows alone, instead of a hash join of every staged score with every stored one.
    static func announceStageChanges(
        playbook: LifecyclePlaybook,
        outbox: Outbox,
        slice: Int,
        on connection: isolated PostgresConnection
    ) throws -> Int {
        // The planner cannot count them: it guesses `IS DISTINCT FROM` between two columns true for 99.5% of the rows,
        // and would scan every stored score (8.4 s at ten million customers) rather than the index of the few. Only
        // the index is allowed for this one plan, then the transaction's settings come back.
        let saved = try connection.query("SELECT current_setting('enable_seqscan'), current_setting('jit')")
        try connection.execute("SELECT set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)")
        try connection.execute(
            "DECLARE crm_stage_changes NO SCROLL CURSOR FOR " + unannouncedRows + " FOR UPDATE OF s"
        )
        try connection.execute(
            "SELECT set_config('enable_seqscan', $1, true), set_config('jit', $2, true)",
            [try saved.first?.decode(0, as: String.self) ?? "on", try saved.first?.decode(1, as: String.self) ?? "on"]
        )
        var events = 0
        while true {
            let rows = try connection.query("FETCH FORWARD \(slice) FROM crm_stage_changes").map(Self.row)
            let messages = try announce(rows, playbook: playbook, on: connection)
            try ScoredEvents.enqueue(messages, into: outbox, on: connection)
            events += messages.count
            guard rows.count == slice else { break }
        }
        try connection.execute("CLOSE crm_stage_changes")
        return events
    }

    /// Marks `rows` announced and returns their events.
    private static func announce(
        _ rows: [Row],
        playbook: LifecyclePlaybook,
        on connection: isolated PostgresConnection
    ) throws -> [OutboundMessage] {
        guard !rows.isEmpty else { return [] }
        // By key (`= ANY` probes the primary key for each id): a join with `unnest` of a slice of 20,000 ids was
        // planned as a hash join over every stored score, 2.7 to 5.3 s a slice at ten million customers.
        try connection.execute(
            """
            UPDATE customer_scores s SET announced_stage = s.lifecycle_stage
            WHERE s.customer_id = ANY($1::text[])
            """,
            [rows.map(\.customerID)]
        )
        return try messages(rows, event: .stageChanged, playbook: playbook)
    }

    /// Announces the purchases due by `now` (at most `limit`): repeat customers (two or more purchase days) whose
    /// expected next purchase, last purchase + their expected interval, passed no longer than one interval ago, and
    /// whose last purchase has not been announced as due yet. Customers in `termination` are left to win-back. Replicas
    /// skip each other's rows. Returns the number of customers settled (announced, or passed over for `opt_out`).
    static func announcePurchasesDue(
        now: Date,
        limit: Int,
        playbook: LifecyclePlaybook,
        outbox: Outbox,
        on connection: isolated PostgresConnection
    ) throws -> Int {
        let rows = try connection.query(
            """
            SELECT s.customer_id, NULL::text, s.lifecycle_stage, s.lifecycle_rule, s.tier,
                   date_part('epoch', $1::timestamptz), s.clv_predicted::text, s.p_alive,
                   date_part('epoch', s.last_order_at),
                   date_part('epoch', s.last_order_at) + s.expected_interval_days * 86400,
                   EXISTS (SELECT 1 FROM customer_flags f WHERE f.customer_id = s.customer_id AND f.flag = 'opt_out')
            FROM customer_scores s
            WHERE s.transactions >= 2 AND s.expected_interval_days > 0
              AND s.purchase_due_for IS DISTINCT FROM s.last_order_at
              AND s.lifecycle_stage <> 'termination'
              AND date_part('epoch', s.last_order_at) + s.expected_interval_days * 86400
                  BETWEEN date_part('epoch', $1::timestamptz) - s.expected_interval_days * 86400
                      AND date_part('epoch', $1::timestamptz)
            ORDER BY s.last_order_at
            LIMIT $2
            FOR UPDATE OF s SKIP LOCKED
            """,
            [now, limit]
        ).map(Self.row)
        guard !rows.isEmpty else { return 0 }
        try connection.execute(
            """
            UPDATE customer_scores s SET purchase_due_for = s.last_order_at
            WHERE s.customer_id = ANY($1::text[])
            """,
            [rows.map(\.customerID)]
        )
        try ScoredEvents.enqueue(
            try messages(rows, event: .purchaseDue, playbook: playbook),
            into: outbox,
            on: connection
        )
        return rows.count
    }

    private static func row(_ row: PostgresRow) throws -> Row {
        func stage(_ column: Int) throws -> LifecycleStage? {
            guard let text = try row.decodeIfPresent(column, as: String.self) else { return nil }
            guard let stage = LifecycleStage(rawValue: text) else {
                throw ScoringError(.unreadableRow, "unknown lifecycle stage in customer_scores")
            }
            return stage
        }
        guard let current = try stage(2),
            let tier = ValueTier(rawValue: try row.decode(4, as: String.self))
        else { throw ScoringError(.unreadableRow, "a score without stage or tier") }
        return Row(
            customerID: try row.decode(0),
            previous: try stage(1),
            stage: current,
            rule: try row.decodeIfPresent(3, as: String.self),
            tier: tier,
            at: Date(timeIntervalSince1970: try row.decode(5, as: Double.self)),
            clv: try row.decodeIfPresent(6, as: String.self),
            pAlive: try row.decodeIfPresent(7, as: Double.self),
            lastOrderAt: try row.decodeIfPresent(8, as: Double.self).map(Date.init(timeIntervalSince1970:)),
            expectedAt: try row.decodeIfPresent(9, as: Double.self).map(Date.init(timeIntervalSince1970:)),
            optedOut: try row.decode(10, as: Bool.self)
        )
    }

    /// The events of `rows`, but none for a customer flagged opt_out; counted.
    private static func messages(
        _ rows: [Row],
        event: CustomerLifecycleEvent.Event,
        playbook: LifecyclePlaybook
    ) throws -> [OutboundMessage] {
        var messages: [OutboundMessage] = []
        var optedOut = 0
        for row in rows {
            guard !row.optedOut else {
                optedOut += 1
                continue
            }
            let id = MessageID.random()
            let message = CustomerLifecycleEvent(
                eventID: id,
                event: event,
                customerID: try Identifier(row.customerID),
                stage: row.stage,
                previousStage: row.previous,
                rule: row.rule,
                tier: row.tier,
                changedAt: Timestamp(row.at),
                clv: row.clv.flatMap { try? Money($0) },
                pAlive: row.pAlive.map { min(max(($0 * 10_000).rounded() / 10_000, 0), 1) },
                lastOrderAt: row.lastOrderAt.map(Timestamp.init),
                expectedAt: event == .purchaseDue ? row.expectedAt.map(Timestamp.init) : nil,
                suggestedAction: event == .purchaseDue
                    ? playbook.action(on: LifecyclePlaybook.purchaseDue, tier: row.tier)
                    : playbook.action(stage: row.stage, tier: row.tier)
            )
            messages.append(
                OutboundMessage(
                    exchange: Topology.lifecycleExchange,
                    routingKey: message.routingKey,
                    body: try message.encodedBody(),
                    messageID: id
                )
            )
        }
        (event == .purchaseDue ? dueEvents : stageEvents).increment(by: messages.count)
        suppressed.increment(by: optedOut)
        return messages
    }
}
