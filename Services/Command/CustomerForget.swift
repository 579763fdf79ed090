import ArgumentParser
import CRMPostgres
import Foundation

/// What `crm customer ID` can do besides showing the customer.
enum CustomerAction: String, ExpressibleByArgument, CaseIterable {
    /// Set one of the operators' flags (``CustomerFlag``), with an optional note.
    case flag
    /// Clear a flag.
    case unflag
    /// Erase the customer's personal data, keeping the figures.
    case forget
}

/// `crm customer ID forget`: erases what identifies a person and what they wrote, in one transaction, and keeps every
/// figure (orders, amounts, scores, stages, tiers, alerts, complaints' classification and SLA outcomes), so totals,
/// models and reports are unchanged. Recorded in `customer_erasures` with the counts of what was erased.
///
/// Erased: the customer's name and e-mail; every complaint's subject and body, its stored message reduced to its
/// coded members (ids, times, channel, language, category hint) and its routed copy without the free texts and
/// without any member the sender added; status updates' resolution texts and messages reduced likewise; the notes
/// of feedback on the customer's alerts; the customer object (name, e-mail) of held refunds' bodies; and the same
/// members of the customer's messages still waiting in the outbox. Messages already delivered to desk queues are
/// the desks' to erase.
enum CustomerErasure {
    /// Members of a complaint message that are codes, ids or times: kept.
    static let complaintMembers = [
        "schema", "complaint_id", "customer_id", "received_at", "channel", "language", "order_id", "category_hint",
    ]
    /// Members of a status update that are codes, ids or times: kept (`agent` names the desk's agent, not the customer).
    static let statusMembers = ["schema", "complaint_id", "status", "at", "agent", "satisfaction"]

    struct Erased: Sendable {
        var customers = 0
        var complaints = 0
        var statusUpdates = 0
        var feedbackNotes = 0
        var heldRefunds = 0
        var outboxMessages = 0

        var json: [String: Int] {
            [
                "customers": customers, "complaints": complaints, "status_updates": statusUpdates,
                "feedback_notes": feedbackNotes, "held_refunds": heldRefunds, "outbox_messages": outboxMessages,
            ]
        }
    }

    /// Erases the customer's personal data; throws `notFound` for an id the database has never seen.
    static func forget(customerID: String, reason: String?, pool: PostgresPool) async throws -> (Erased, Int64) {
        try await pool.transaction { connection in
            let known = try connection.query(
                """
                SELECT 1 FROM customers WHERE customer_id = $1
                UNION ALL SELECT 1 FROM complaints WHERE customer_id = $1 LIMIT 1
                """,
                [customerID]
            )
            guard !known.isEmpty else { throw CommandFailure.notFound("no customer \(customerID)") }
            var erased = Erased()
            erased.customers = try connection.execute(
                "UPDATE customers SET name = NULL, email = NULL WHERE customer_id = $1",
                [customerID]
            )
            erased.complaints = try connection.execute(
                """
                UPDATE complaints SET
                    subject = NULL, body = NULL,
                    message = coalesce((SELECT jsonb_object_agg(key, value) FROM jsonb_each(message::jsonb)
                                        WHERE key = ANY($2::text[])), '{}'::jsonb)::text,
                    routed = coalesce((SELECT jsonb_object_agg(r.key, r.value) FROM jsonb_each(routed::jsonb) AS r
                                       WHERE r.key NOT IN ('subject', 'body')
                                         AND (r.key = ANY($2::text[])
                                              OR NOT (message::jsonb ? r.key))), '{}'::jsonb)::text
                WHERE customer_id = $1
                """,
                [customerID, complaintMembers]
            )
            erased.statusUpdates = try connection.execute(
                """
                UPDATE complaint_status_events SET
                    resolution = NULL,
                    message = coalesce((SELECT jsonb_object_agg(key, value) FROM jsonb_each(message::jsonb)
                                        WHERE key = ANY($2::text[])), '{}'::jsonb)::text
                WHERE complaint_id IN (SELECT complaint_id FROM complaints WHERE customer_id = $1)
                """,
                [customerID, statusMembers]
            )
            erased.feedbackNotes = try connection.execute(
                """
                UPDATE alert_feedback SET note = NULL
                WHERE note IS NOT NULL
                  AND alert_id IN (SELECT alert_id FROM retention_alerts WHERE customer_id = $1)
                """,
                [customerID]
            )
            erased.heldRefunds = try connection.execute(
                """
                UPDATE held_refunds SET body = (body::jsonb #- '{customer,name}' #- '{customer,email}')::text
                WHERE order_id IN (SELECT order_id FROM orders WHERE customer_id = $1)
                """,
                [customerID]
            )
            // Messages still waiting to be published. A routed complaint or an escalation of the customer's becomes its
            // complaint's erased routed copy (an escalation keeps its level); any other (a refused held refund, an SLA
            // warning) loses the free texts and the customer's name and e-mail.
            let routed = try connection.execute(
                """
                UPDATE crm_outbox o SET body = (c.routed::jsonb
                    || jsonb_strip_nulls(jsonb_build_object('escalation_level', o.body::jsonb -> 'escalation_level')))::text
                FROM complaints c
                WHERE c.customer_id = $1 AND o.body LIKE '%' || $2 || '%'
                  AND o.body::jsonb ->> 'complaint_id' = c.complaint_id
                  AND (o.body::jsonb ? 'subject' OR o.body::jsonb ? 'body' OR o.body::jsonb ->> 'schema' = 'complaint.v1')
                """,
                [
                    customerID,
                    customerID.replacingOccurrences(of: "%", with: "").replacingOccurrences(of: "_", with: ""),
                ]
            )
            erased.outboxMessages = routed
            erased.outboxMessages += try connection.execute(
                """
                UPDATE crm_outbox SET body = (
                    SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb)
                    FROM jsonb_each(body::jsonb #- '{customer,name}' #- '{customer,email}')
                    WHERE key NOT IN ('subject', 'body')
                )::text
                WHERE body LIKE '%' || $2 || '%' AND body::jsonb ->> 'customer_id' = $1
                  AND (body::jsonb ? 'subject' OR body::jsonb ? 'body' OR body::jsonb -> 'customer' ? 'name'
                       OR body::jsonb -> 'customer' ? 'email')
                """,
                [
                    customerID,
                    customerID.replacingOccurrences(of: "%", with: "").replacingOccurrences(of: "_", with: ""),
                ]
            )
            let counts = try JSONSerialization.data(withJSONObject: erased.json, options: [.sortedKeys])
            let audit = try connection.query(
                "INSERT INTO customer_erasures (customer_id, reason, erased) VALUES ($1, $2, $3::jsonb) RETURNING id",
                [customerID, reason, String(decoding: counts, as: UTF8.self)]
            )
            return (erased, try audit[0].decode(0, as: Int64.self))
        }
    }
}

extension Customer {
    func forget() async throws {
        let pool = try CommandEnvironment().pool()
        let result: (CustomerErasure.Erased, Int64)
        do {
            result = try await CustomerErasure.forget(customerID: id, reason: reason, pool: pool)
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
        let (erased, audit) = result
        if json {
            print(
                try JSONOutput.string([
                    "customer_id": id, "erasure_id": audit, "erased": erased.json, "reason": reason as Any? ?? NSNull(),
                ])
            )
            return
        }
        print(
            "Erased the personal data of \(id): name and e-mail, \(erased.complaints) complaints' texts, "
                + "\(erased.statusUpdates) status updates, \(erased.feedbackNotes) feedback notes, "
                + "\(erased.heldRefunds) held refunds, \(erased.outboxMessages) waiting messages; the figures stay. "
                + "Recorded as erasure \(audit) in customer_erasures."
        )
    }
}
