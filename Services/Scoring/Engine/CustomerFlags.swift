import CRMContract
import CRMPostgres
import Foundation

/// The operators' flags on customers (`crm customer ID flag FLAG`, `unflag FLAG`): `customer_flags` holds those in
/// force, `customer_flag_events` every change with its note. Written with the owner's account through `crm`; the
/// services only read them.
public enum CustomerFlags {
    /// What a flag or unflag did.
    public enum Outcome: Sendable, Equatable {
        /// The flag is now set (it was not).
        case flagged
        /// The flag was already set; its note and time are renewed.
        case renewed
        /// The flag is now cleared.
        case unflagged
        /// The flag was not set: nothing changed.
        case notFlagged
        /// No customer has this id.
        case unknownCustomer
    }

    /// Sets `flag` on a known customer, with an optional note.
    public static func flag(
        _ flag: CustomerFlag,
        customerID: String,
        note: String?,
        pool: PostgresPool
    ) async throws -> Outcome {
        try await pool.transaction { connection in
            guard try known(customerID, on: connection) else { return .unknownCustomer }
            let inserted = try connection.query(
                """
                INSERT INTO customer_flags (customer_id, flag, note) VALUES ($1, $2, $3)
                ON CONFLICT (customer_id, flag) DO UPDATE
                    SET note = EXCLUDED.note, flagged_at = now(), flagged_by = current_user
                RETURNING xmax = 0
                """,
                [customerID, flag.rawValue, note]
            ).first?.decode(0, as: Bool.self)
            try record(customerID, flag, "flagged", note, on: connection)
            return inserted == true ? .flagged : .renewed
        }
    }

    /// Clears `flag` from a customer.
    public static func unflag(_ flag: CustomerFlag, customerID: String, pool: PostgresPool) async throws -> Outcome {
        try await pool.transaction { connection in
            guard try known(customerID, on: connection) else { return .unknownCustomer }
            let removed = try connection.execute(
                "DELETE FROM customer_flags WHERE customer_id = $1 AND flag = $2",
                [customerID, flag.rawValue]
            )
            guard removed > 0 else { return .notFlagged }
            try record(customerID, flag, "unflagged", nil, on: connection)
            return .unflagged
        }
    }

    private static func known(_ customerID: String, on connection: isolated PostgresConnection) throws -> Bool {
        try !connection.query("SELECT 1 FROM customers WHERE customer_id = $1", [customerID]).isEmpty
    }

    private static func record(
        _ customerID: String,
        _ flag: CustomerFlag,
        _ action: String,
        _ note: String?,
        on connection: isolated PostgresConnection
    ) throws {
        try connection.execute(
            "INSERT INTO customer_flag_events (customer_id, flag, action, note) VALUES ($1, $2, $3, $4)",
            [customerID, flag.rawValue, action, note]
        )
    }
}
