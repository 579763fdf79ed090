import CRMAMQP
import CRMOutbox
import CRMPostgres
import CRMRuntime
import CRMSupport
import Foundation
import Intake
import TestSupport
import Testing

@Suite("Intake customers")
struct IntakeCustomerTests {
    @Test func customersAreCreatedOnceAndKnownFieldsAreNeverErased() async throws {
        try await TestServers.withEnvironment { environment in
            let handler = OrderIntakeHandler(pool: environment.pool, outbox: Outbox(of: .intake), baseCurrency: "USD")
            let batches: [[Data]] = [
                [
                    IntakeHarness.order(
                        "K-1",
                        customer: "C-1",
                        extra: #","customer":{"name":"Li Lei","region":"east"}"#
                    ),
                    IntakeHarness.order("K-2", customer: "C-2"),
                ],
                [IntakeHarness.order("K-3", customer: "C-1"), IntakeHarness.order("K-4", customer: "C-2")],
                [
                    IntakeHarness.order("K-5", customer: "C-1", extra: #","customer":{"email":"li@example.com"}"#),
                    IntakeHarness.order("K-6", customer: "C-2", extra: #","customer":{"region":"west"}"#),
                    IntakeHarness.order("K-7", customer: "C-3"),
                ],
                [IntakeHarness.order("K-8", customer: "C-1", extra: #","customer":{}"#)],
            ]
            for batch in batches {
                let dispositions = try await handler.handle(batch.map { InboundMessage(body: $0) })
                #expect(dispositions.allSatisfy { $0 == .processed })
            }
            let rows = try await environment.pool.query(
                "SELECT customer_id, name, email, region, customer_type FROM customers ORDER BY customer_id"
            )
            let customers = try rows.map { row in
                [try row.decode(0, as: String.self)] + (1...4).map { row[$0] ?? "-" }
            }
            #expect(
                customers == [
                    ["C-1", "Li Lei", "li@example.com", "east", "-"], ["C-2", "-", "-", "west", "-"],
                    ["C-3", "-", "-", "-", "-"],
                ]
            )
            let orders = try await environment.pool.query("SELECT count(*) FROM orders")[0].decode(0, as: Int.self)
            #expect(orders == 8)
        }
    }

    /// A redelivered order is a no-op for its customer too: it does not bring back what a later order changed.
    @Test func aRedeliveredOrderLeavesItsCustomerAsItIs() async throws {
        try await TestServers.withEnvironment { environment in
            let handler = OrderIntakeHandler(pool: environment.pool, outbox: Outbox(of: .intake), baseCurrency: "USD")
            let first = IntakeHarness.order("N-1", customer: "C-1", extra: #","customer":{"name":"Li Lei"}"#)
            let later = IntakeHarness.order("N-2", customer: "C-1", extra: #","customer":{"name":"Li Lei Sr."}"#)
            for batch in [[first], [later], [first, IntakeHarness.order("N-3", customer: "C-2")]] {
                let dispositions = try await handler.handle(batch.map { InboundMessage(body: $0) })
                #expect(dispositions.allSatisfy { $0 == .processed })
            }
            let name = try await environment.pool.query("SELECT name FROM customers WHERE customer_id = 'C-1'")
            #expect(try name.map { try $0.decode(0, as: String.self) } == ["Li Lei Sr."])
            let orders = try await environment.pool.query("SELECT count(*) FROM orders")[0].decode(0, as: Int.self)
            #expect(orders == 3)
        }
    }

    /// Every stored order has its customer, and a customer with orders is neither deleted nor renamed (what the
    /// foreign key did, kept by the customers' trigger); one without orders may be.
    @Test func aCustomerWithOrdersIsNeitherDeletedNorRenamed() async throws {
        try await TestServers.withEnvironment { environment in
            let handler = OrderIntakeHandler(pool: environment.pool, outbox: Outbox(of: .intake), baseCurrency: "USD")
            let batch = (1...40).map { IntakeHarness.order("R-\($0)", customer: "C-\($0 % 7)") }
            #expect(try await handler.handle(batch.map { InboundMessage(body: $0) }).allSatisfy { $0 == .processed })
            let orphans = try await environment.pool.query(
                "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = o.customer_id)"
            )
            #expect(try orphans[0].decode(0, as: Int.self) == 0)

            for statement in [
                "DELETE FROM customers WHERE customer_id = $1",
                "UPDATE customers SET customer_id = 'C-renamed' WHERE customer_id = $1",
            ] {
                do {
                    try await environment.pool.execute(statement, ["C-3"])
                    Issue.record("\(statement) succeeded for a customer with orders")
                } catch let error as PostgresError {
                    #expect(error.sqlState == "23503")
                }
            }
            try await environment.pool.execute("INSERT INTO customers (customer_id) VALUES ('C-none')")
            #expect(
                try await environment.pool.execute(
                    "UPDATE customers SET customer_id = 'C-none-2' WHERE customer_id = 'C-none'"
                ) == 1
            )
            #expect(
                try await environment.pool.execute("UPDATE customers SET name = 'Han Meimei' WHERE customer_id = 'C-3'")
                    == 1
            )
            #expect(try await environment.pool.execute("DELETE FROM customers WHERE customer_id = 'C-none-2'") == 1)
            #expect(try await environment.pool.query("SELECT count(*) FROM customers")[0].decode(0, as: Int.self) == 7)
        }
    }

    /// A customer deleted while a transaction stores its first order waits for that transaction, then sees the
    /// order and is kept: the trigger waits as the foreign key's row lock made a delete wait.
    @Test func aDeleteWaitsForAnOrderBeingStoredForTheCustomer() async throws {
        try await TestServers.withEnvironment { environment in
            try await Self.deleteWhileAnOrderIsStored(in: environment)
            #expect(
                try await environment.pool.query("SELECT count(*) FROM customers WHERE customer_id = 'C-race'")[0]
                    .decode(0, as: Int.self) == 1
            )
        }
    }

    /// Intake stores a batch's orders before their customers. A delete of the customer meanwhile waits before it
    /// locks the customer's row, so the transaction can still update that customer, and the delete then fails: no
    /// deadlock for PostgreSQL to break by aborting one of them.
    @Test func aDeleteDuringABatchLetsItUpdateTheCustomer() async throws {
        try await TestServers.withEnvironment { environment in
            try await Self.deleteWhileAnOrderIsStored(in: environment) { writer in
                try await writer.execute(
                    """
                    INSERT INTO customers (customer_id, name) VALUES ('C-race', 'Han Meimei')
                    ON CONFLICT (customer_id) DO UPDATE SET name = EXCLUDED.name
                    """
                )
            }
            let name = try await environment.pool.query("SELECT name FROM customers WHERE customer_id = 'C-race'")
            #expect(try name.map { try $0.decode(0, as: String.self) } == ["Han Meimei"])
        }
    }

    /// A new customer's first order and its registration (a customer message) stored at once, as intake stores them:
    /// the batch stores the order, the registration inserts the customer meanwhile, then the batch upserts its
    /// customers. Both must commit, neither waiting for the other for good: every writer takes the customer's row
    /// before its `customer_activity` row (the order stores its missing customer first), so the registration waits for
    /// the batch and then finds the customer stored, and the order counts in the customer's activity.
    @Test func aFirstOrderAndItsCustomersRegistrationAtOnceBothCommit() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            let batch = environment.connection(name: "batch")
            let registration = environment.connection(name: "registration")
            try await Self.beginStoring(order: "O-first", of: "C-new", on: batch)
            let registering = Task {
                try await registration.execute(
                    """
                    INSERT INTO customers AS c (customer_id, name) VALUES ('C-new', 'Li Lei')
                    ON CONFLICT (customer_id) DO UPDATE SET name = EXCLUDED.name
                    """
                )
            }
            #expect(try await Self.aStatementWaitsForALock(startingWith: "INSERT INTO customers AS c", in: environment))
            try await batch.execute(
                "INSERT INTO customers (customer_id) VALUES ('C-new') ON CONFLICT (customer_id) DO NOTHING"
            )
            try await batch.execute("COMMIT")
            _ = try await registering.value
            let rows = try await environment.pool.query(
                """
                SELECT c.name, a.purchases FROM customers c JOIN customer_activity a USING (customer_id)
                WHERE customer_id = 'C-new'
                """
            )
            #expect(try rows.map { try $0.decode(0, as: String.self) } == ["Li Lei"])
            #expect(try rows.map { try $0.decode(1, as: Int.self) } == [1])
            await batch.close()
            await registration.close()
        }
    }

    /// Opens a transaction on `connection` that stores a purchase `order` of `customer` and stays open.
    private static func beginStoring(order: String, of customer: String, on connection: PostgresConnection) async throws
    {
        try await connection.execute("BEGIN")
        try await connection.execute(
            """
            INSERT INTO orders (order_id, customer_id, kind, occurred_at, amount, currency, amount_base, content_hash)
            VALUES ($1, $2, 'purchase', now(), 10, 'USD', 10, 'h')
            """,
            [order, customer]
        )
    }

    /// Whether a statement of the test's database starting with `prefix` comes to wait for a lock (on a busy machine
    /// it may take a while to get there).
    private static func aStatementWaitsForALock(
        startingWith prefix: String,
        in environment: TestEnvironment
    ) async throws -> Bool {
        try await eventually {
            try await environment.pool.query(
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND starts_with(query, $1)
                """,
                [prefix]
            )[0].decode(0, as: Int.self) == 1
        }
    }

    /// Deletes customer `C-race` while another transaction has stored an order for it and not committed yet; once
    /// the delete waits, `meanwhile` runs in that transaction, which then commits. The delete must fail: the customer
    /// has an order.
    private static func deleteWhileAnOrderIsStored(
        in environment: TestEnvironment,
        meanwhile: (PostgresConnection) async throws -> Void = { _ in }
    ) async throws {
        try await environment.pool.execute("INSERT INTO customers (customer_id) VALUES ('C-race')")
        let writer = environment.connection(name: "writer")
        let deleter = environment.connection(name: "deleter")
        try await beginStoring(order: "O-race", of: "C-race", on: writer)
        let deletion = Task { try await deleter.execute("DELETE FROM customers WHERE customer_id = 'C-race'") }
        #expect(try await aStatementWaitsForALock(startingWith: "DELETE FROM customers", in: environment))
        try await meanwhile(writer)
        try await writer.execute("COMMIT")
        do {
            _ = try await deletion.value
            Issue.record("the customer was deleted while its order was being stored")
        } catch let error as PostgresError {
            #expect(error.sqlState == "23503")
        }
        await writer.close()
        await deleter.close()
    }
}
