import ArgumentParser
import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMRuntime
import CRMSupport
import Foundation

/// `crm orders`: operators' corrections of stored orders.
struct Orders: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orders",
        abstract: "Correct stored orders.",
        subcommands: [Remove.self]
    )

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a wrong order out, with an audit row; its customer is rescored.",
            discussion: """
                Deletes the order and its items, records what it was in order_removals (who, when, why), and \
                tells crm-scoring to rescore its customer (an order.accepted event through crm-intake's outbox). \
                The refunds of a removed purchase are held again: they count once a purchase of that id arrives \
                anew, or are dead-lettered then if they cannot apply. The id is free again, so upstream can send \
                the corrected order under it.
                """
        )

        @Argument(help: "The order_id of the order to remove.")
        var orderID: String

        @Option(help: "Why it is removed, for the audit row.")
        var reason: String?

        @Flag(help: "Print one JSON object describing the removed order.")
        var json = false

        func validate() throws {
            do {
                _ = try Identifier(orderID)
            } catch {
                throw ValidationError("ORDER-ID: \(error.problem)")
            }
            if let reason, reason.count > 500 { throw ValidationError("--reason: at most 500 characters") }
        }

        func run() async throws {
            let pool = try CommandEnvironment().pool()
            let (orderID, reason) = (self.orderID, self.reason)
            let removed: Removed?
            do {
                removed = try await pool.transaction { connection in
                    try Self.remove(orderID, reason: reason, on: connection)
                }
            } catch {
                await pool.close()
                throw error
            }
            await pool.close()
            guard let removed else { throw CommandFailure.notFound("no order \(orderID)") }
            if json {
                print(
                    try JSONOutput.string([
                        "order_id": orderID, "customer_id": removed.customer, "kind": removed.kind,
                        "amount": removed.amount, "currency": removed.currency, "refunds_held": removed.refundsHeld,
                        "reason": reason as Any? ?? NSNull(),
                    ])
                )
                return
            }
            var line = "Removed order \(orderID) (\(removed.kind) of customer \(removed.customer), "
            line += "\(removed.amount) \(removed.currency)); recorded in order_removals."
            if removed.refundsHeld > 0 { line += " \(removed.refundsHeld) refund(s) of it held again." }
            print(line + " Customer \(removed.customer) is rescored by crm-scoring.")
        }

        struct Removed: Sendable {
            var customer: String
            var kind: String
            var amount: String
            var currency: String
            var refundsHeld: Int
        }

        static func remove(
            _ orderID: String,
            reason: String?,
            on connection: isolated PostgresConnection
        ) throws -> Removed? {
            let rows = try connection.query(
                """
                SELECT customer_id, kind, amount::text, currency, occurred_at FROM orders WHERE order_id = $1
                FOR UPDATE
                """,
                [orderID]
            )
            guard let row = rows.first else { return nil }
            let customer: String = try row.decode(0)
            let kind: String = try row.decode(1)
            let occurredAt: Date = try row.decode(4)
            // Its refunds wait for a purchase of this id again, as if they had come first.
            let held = try connection.execute(
                "UPDATE orders SET held = true WHERE original_order_id = $1 AND kind = 'refund' AND NOT held",
                [orderID]
            )
            try connection.execute(
                """
                INSERT INTO order_removals (order_id, customer_id, kind, original_order_id, occurred_at, amount,
                                            currency, amount_base, content_hash, refunds_held, reason)
                SELECT order_id, customer_id, kind, original_order_id, occurred_at, amount, currency, amount_base,
                       content_hash, $2, $3
                FROM orders WHERE order_id = $1
                """,
                [orderID, held, reason]
            )
            try connection.execute("DELETE FROM orders WHERE order_id = $1", [orderID])
            let event = OrderAcceptedEvents(customers: [
                OrderAcceptedEvents.Customer(
                    customerID: try Identifier(customer),
                    orderIDs: [try Identifier(orderID)],
                    occurredAt: Timestamp(occurredAt)
                )
            ])
            try Outbox(of: .intake).enqueue(
                [
                    OutboundMessage(
                        exchange: Topology.eventsExchange,
                        routingKey: Topology.EventKey.orderAccepted,
                        body: try event.encodedBody()
                    )
                ],
                on: connection
            )
            return Removed(
                customer: customer,
                kind: kind,
                amount: try row.decode(2),
                currency: try row.decode(3),
                refundsHeld: held
            )
        }
    }
}
