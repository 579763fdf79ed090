import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSchema
import Foundation
import Intake
import Scoring
import TestSupport
import Testing

/// `customer_activity`: each customer's orders summed up by triggers on `orders`, and the full rescoring of the
/// present that reads it instead of the orders.
@Suite struct CustomerActivityTests {
    /// Orders of every shape a customer's activity must survive, dated around `now`: purchases with and without a
    /// cost, several on one day, refunds, and for the first customers a refund stored before its purchase (held, then
    /// released), a refund whose purchase never comes (held for good), and an order dated two hours ahead.
    static func recentOrders(now: Date) -> (first: [Data], second: [Data]) {
        func time(daysAgo: Double) -> String { Timestamp(now.addingTimeInterval(-daysAgo * 86_400)).rfc3339 }
        var first: [Data] = []
        var second: [Data] = []
        for customer in 0..<40 {
            let id = "R\(customer)"
            let count = 1 + customer % 9
            for order in 0..<count {
                let daysAgo = Double((customer * 37 + order * 53) % 400) + 0.25
                let amount = String(format: "%.2f", 10 + Double((customer * 13 + order * 7) % 90))
                let cost = customer % 3 == 0 ? String(format: "%.2f", Double((customer + order) % 12)) : nil
                first.append(
                    ScoringHarness.order(
                        "\(id)-\(order)",
                        customer: id,
                        at: time(daysAgo: daysAgo),
                        amount: amount,
                        cost: cost
                    )
                )
                // A second order an hour later on every fifth customer's days: one transaction, two orders.
                if customer % 5 == 0 {
                    first.append(
                        ScoringHarness.order(
                            "\(id)-\(order)b",
                            customer: id,
                            at: time(daysAgo: daysAgo - 1.0 / 24),
                            amount: "5.00"
                        )
                    )
                }
                if customer % 7 == 0, order == 0 {
                    first.append(
                        ScoringHarness.order(
                            "\(id)-\(order)r",
                            customer: id,
                            at: time(daysAgo: daysAgo - 3),
                            amount: "4.00",
                            kind: "refund",
                            original: "\(id)-\(order)"
                        )
                    )
                }
            }
        }
        // R1's refund arrives before its purchase; R2's purchase never does.
        first.append(
            ScoringHarness.order(
                "R1-late-r",
                customer: "R1",
                at: time(daysAgo: 2),
                amount: "3.00",
                kind: "refund",
                original: "R1-late"
            )
        )
        first.append(
            ScoringHarness.order(
                "R2-never-r",
                customer: "R2",
                at: time(daysAgo: 2),
                amount: "3.00",
                kind: "refund",
                original: "R2-never"
            )
        )
        second.append(ScoringHarness.order("R1-late", customer: "R1", at: time(daysAgo: 5), amount: "30.00"))
        // R4 buys again, dated two hours ahead (intake takes orders up to a day ahead).
        second.append(
            ScoringHarness.order(
                "R4-ahead",
                customer: "R4",
                at: Timestamp(now.addingTimeInterval(7_200)).rfc3339,
                amount: "20.00"
            )
        )
        return (first, second)
    }

    /// The CDNOW sample moved 28 years on (1997-01-01 becomes 2025-01-01, at noon): a base whose present is the
    /// present, so that the purchase models fit and every lifecycle stage occurs as of now.
    static func recentCDNOW() throws -> [Data] {
        let text = try String(
            contentsOf: ScoringHarness.fixtures.appendingPathComponent("CDNOW_sample.txt"),
            encoding: .utf8
        )
        let shift = try Timestamp(rfc3339: "2025-01-01T12:00:00Z").date
            .timeIntervalSince(Timestamp(rfc3339: "1997-01-01T00:00:00Z").date)
        var bodies: [Data] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            guard var order = try OrderFile.cdnowOrder(String(line), lineNumber: number + 1) else { continue }
            order.occurredAt = Timestamp(order.occurredAt.date.addingTimeInterval(shift))
            bodies.append(try order.encodedBody())
        }
        return bodies
    }

    /// Rows of `customer_activity` that differ from what the orders sum up to, both ways (a customer whose every order
    /// went keeps an empty row, which the orders have no row for).
    static func differences(_ pool: PostgresPool) async throws -> Int {
        let rows = try await pool.query(
            """
            SELECT (SELECT count(*) FROM (SELECT * FROM customer_activity WHERE last_order_at IS NOT NULL
                                          EXCEPT SELECT * FROM customer_activity_from_orders) x)
                 + (SELECT count(*) FROM (SELECT * FROM customer_activity_from_orders
                                          EXCEPT SELECT * FROM customer_activity) y)
            """
        )
        return try rows[0].decode(0, as: Int.self)
    }

    @Test func triggersKeepEachCustomersActivityEqualToItsOrders() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            let pool = environment.pool
            try await ScoringHarness.store(try Self.recentCDNOW(), pool: pool)
            let orders = Self.recentOrders(now: Date())
            try await ScoringHarness.store(orders.first, pool: pool)
            #expect(try await Self.differences(pool) == 0)
            // Held refunds count for nothing yet.
            let held = try await pool.query("SELECT count(*) FROM orders WHERE held")
            #expect(try held[0].decode(0, as: Int.self) == 2)

            // The purchase releases R1's refund (an UPDATE of orders); R4's order lies ahead.
            try await ScoringHarness.store(orders.second, pool: pool)
            #expect(try await Self.differences(pool) == 0)

            // An operator removes R7's first purchase (its refund held again, as `crm orders remove` does) and every
            // order of R8: R8 keeps an empty row.
            try await pool.transaction { connection in
                try connection.execute(
                    "UPDATE orders SET held = true WHERE original_order_id = 'R7-0' AND kind = 'refund'"
                )
                try connection.execute("DELETE FROM orders WHERE order_id = 'R7-0'")
                try connection.execute("DELETE FROM orders WHERE customer_id = 'R8'")
            }
            #expect(try await Self.differences(pool) == 0)
            let emptied = try await pool.query(
                "SELECT purchases, (SELECT count(*) FROM crm_purchase_days(purchase_days)), last_order_at IS NULL FROM customer_activity WHERE customer_id = 'R8'"
            )
            #expect(try emptied[0].decode(0, as: Int.self) == 0)
            #expect(try emptied[0].decode(1, as: Int.self) == 0)
            #expect(try emptied[0].decode(2, as: Bool.self))

            // Every customer with a counted order has a row; R1's days include the released refund's purchase.
            let counts = try await pool.query(
                """
                SELECT (SELECT count(DISTINCT customer_id) FROM orders WHERE NOT held),
                       (SELECT count(*) FROM customer_activity WHERE last_order_at IS NOT NULL),
                       (SELECT net_revenue FROM customer_activity WHERE customer_id = 'R1')::float8,
                       (SELECT sum(CASE kind WHEN 'purchase' THEN amount_base ELSE -amount_base END) FROM orders
                        WHERE customer_id = 'R1' AND NOT held)::float8
                """
            )
            #expect(try counts[0].decode(0, as: Int.self) == counts[0].decode(1, as: Int.self))
            #expect(try counts[0].decode(2, as: Double.self) == counts[0].decode(3, as: Double.self))
        }
    }

    /// Two writers storing orders of the same customers at once: each waits for the other's rows, then sums up what
    /// the other committed, so no order is lost from the activity.
    @Test func concurrentWritersOfOneCustomerLoseNothing() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            let pool = environment.pool
            let start = Date().addingTimeInterval(-300 * 86_400)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<2 {
                    group.addTask {
                        for batch in 0..<15 {
                            let bodies = (0..<20).map { customer in
                                ScoringHarness.order(
                                    "W\(writer)-\(batch)-\(customer)",
                                    customer: "C\(customer)",
                                    at: Timestamp(start.addingTimeInterval(Double(batch * 2 + writer) * 86_400))
                                        .rfc3339,
                                    amount: "\(10 + writer).00"
                                )
                            }
                            try await ScoringHarness.store(bodies, pool: pool)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await Self.differences(pool) == 0)
            let rows = try await pool.query(
                "SELECT min(purchases), max(purchases), min((SELECT count(*) FROM crm_purchase_days(purchase_days))) FROM customer_activity"
            )
            #expect(try rows[0].decode(0, as: Int.self) == 30)
            #expect(try rows[0].decode(1, as: Int.self) == 30)
            #expect(try rows[0].decode(2, as: Int.self) == 30)
        }
    }

    /// Migrates the environment's database up to migration `version`, leaving it out; the function returned applies the
    /// rest.
    static func migrate(
        before version: Int,
        _ environment: TestEnvironment
    ) async throws -> () async throws -> Void {
        let connection = environment.connection(name: "migrate")
        let before = Schema.migrations.filter { $0.version < version }
        try await Migrator(migrations: before).migrate(connection, logger: TestServers.logger)
        return {
            try await Migrator().migrate(connection, logger: TestServers.logger)
            await connection.close()
        }
    }

    /// Every customer has its activity row: one stored before the migration that brought the rule gets an empty row
    /// from it, one stored after gets it from the trigger on `customers`, its first order fills it in as if it had
    /// never been empty, and a customer deleted (one without orders) takes its row along.
    @Test func everyCustomerHasItsActivityRow() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let pool = environment.pool
            // Before "an activity row for every customer".
            let migrateTheRest = try await Self.migrate(before: 40, environment)
            try await pool.execute("INSERT INTO customers (customer_id) VALUES ('B-none')")
            let at = Timestamp(Date().addingTimeInterval(-86_400)).rfc3339
            try await ScoringHarness.store(
                [ScoringHarness.order("B-1", customer: "B-ordered", at: at, amount: "12.50")],
                pool: pool
            )
            func rows() async throws -> [String: String] {
                let rows = try await pool.query(
                    """
                    SELECT customer_id, concat_ws(' ', purchases, net_value::float8,
                           CASE WHEN last_order_at IS NULL THEN 'none' ELSE 'ordered' END)
                    FROM customer_activity
                    """
                )
                return Dictionary(
                    uniqueKeysWithValues: try rows.map {
                        (try $0.decode(0, as: String.self), try $0.decode(1, as: String.self))
                    }
                )
            }
            #expect(try await rows() == ["B-ordered": "1 12.5 ordered"])

            try await migrateTheRest()
            #expect(try await rows() == ["B-ordered": "1 12.5 ordered", "B-none": "0 0 none"])

            try await pool.execute("INSERT INTO customers (customer_id) VALUES ('A-none'), ('A-ordered')")
            try await ScoringHarness.store(
                [
                    ScoringHarness.order("A-1", customer: "A-ordered", at: at, amount: "20.00"),
                    ScoringHarness.order("A-2", customer: "A-new", at: at, amount: "7.00"),
                ],
                pool: pool
            )
            #expect(
                try await rows() == [
                    "B-ordered": "1 12.5 ordered", "B-none": "0 0 none", "A-none": "0 0 none",
                    "A-ordered": "1 20 ordered", "A-new": "1 7 ordered",
                ]
            )
            #expect(try await Self.differences(pool) == 0)

            #expect(try await pool.execute("DELETE FROM customers WHERE customer_id IN ('A-none', 'B-none')") == 2)
            #expect(Set(try await rows().keys) == ["B-ordered", "A-ordered", "A-new"])
        }
    }

    /// The purchase days as each customer's days and values, in the text of two arrays (as migration 37 stored them),
    /// read from the packed column.
    static let unpackedDays = """
        SELECT customer_id,
               (SELECT coalesce('{' || string_agg(day::text, ',' ORDER BY day) || '}', '{}')
                FROM crm_purchase_days(purchase_days)),
               (SELECT coalesce('{' || string_agg(value::text, ',' ORDER BY day) || '}', '{}')
                FROM crm_purchase_days(purchase_days))
        FROM customer_activity
        """

    static func rows(_ sql: String, _ pool: PostgresPool) async throws -> [String: String] {
        let rows = try await pool.query(sql)
        return Dictionary(
            uniqueKeysWithValues: try rows.map {
                let (days, values) = (try $0.decode(1, as: String.self), try $0.decode(2, as: String.self))
                return (try $0.decode(0, as: String.self), "\(days) \(values)")
            }
        )
    }

    /// Packing the purchase days (migration 42) keeps every customer's days and values to the last decimal, and the
    /// packed rows are the ones the orders give.
    @Test func packingThePurchaseDaysKeepsEveryDayAndValue() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let pool = environment.pool
            let migrateTheRest = try await Self.migrate(before: 42, environment)  // before "packed purchase days"
            try await ScoringHarness.store(try Self.recentCDNOW(), pool: pool)
            let orders = Self.recentOrders(now: Date())
            try await ScoringHarness.store(orders.first + orders.second, pool: pool)
            let arrays = try await Self.rows(
                "SELECT customer_id, purchase_days::text, day_values::text FROM customer_activity",
                pool
            )
            #expect(arrays.count == 2357 + 40)
            #expect(arrays.values.contains { $0.contains(",") })

            try await migrateTheRest()
            #expect(try await Self.rows(Self.unpackedDays, pool) == arrays)
            #expect(try await Self.differences(pool) == 0)
        }
    }

    /// Orders stored in statements of their own keep the packed days in the one form the orders give: days added
    /// after the last, before it and on it, and a day whose value is beyond a bigint of ten-thousandths (its entries
    /// add up to it exactly).
    @Test func packedDaysStayExactAcrossStatements() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            let pool = environment.pool
            let largest = "999999999999999.9999"  // numeric(19, 4) at its largest
            let statements: [[(id: String, at: String, amount: String)]] = [
                [("p1", "2026-01-10 10:00Z", "10"), ("p2", "2026-01-12 10:00Z", "20.5")],
                [("p3", "2026-01-15 10:00Z", "1")],  // after the last day
                [("p4", "2026-01-12 11:00Z", "0.0001"), ("p5", "2026-01-01 11:00Z", "3")],  // on a day, and before
                [("h1", "2026-01-20 10:00Z", largest), ("h2", "2026-01-20 11:00Z", largest)],
                [("h3", "2026-01-20 12:00Z", largest)],
            ]
            for orders in statements {
                try await pool.transaction { connection in
                    for order in orders {
                        try connection.execute(
                            """
                            INSERT INTO orders (order_id, customer_id, kind, occurred_at, amount, currency, amount_base,
                                                content_hash)
                            VALUES ($1, 'X1', 'purchase', $2::timestamptz, $3::numeric, 'USD', $3::numeric, 'test')
                            """,
                            [order.id, order.at, order.amount]
                        )
                    }
                }
                #expect(try await Self.differences(pool) == 0)
            }
            // Every order in one statement: the same days and values.
            try await pool.execute(
                """
                INSERT INTO orders (order_id, customer_id, kind, occurred_at, amount, currency, amount_base, content_hash)
                SELECT 'Y' || order_id, 'Y1', kind, occurred_at, amount, currency, amount_base, content_hash
                FROM orders WHERE customer_id = 'X1'
                """
            )
            let rows = try await Self.rows(Self.unpackedDays, pool)
            let expected = "{20454,20463,20465,20468,20473} {3.0000,10.0000,20.5001,1.0000,2999999999999999.9997}"
            #expect(rows == ["X1": expected, "Y1": expected])
            let entries = try await pool.query(
                "SELECT octet_length(purchase_days) / 12 FROM customer_activity WHERE customer_id = 'X1'"
            )
            #expect(try entries[0].decode(0, as: Int.self) == 4 + 4)  // four days, and the large one in four pieces
            #expect(try await Self.differences(pool) == 0)
        }
    }

    /// A full rescoring of the present gives every customer the same score from the stored activities as from the
    /// orders; R4's order dated ahead is left out either way (R4 is read from its orders). Money may differ by one
    /// unit of its fourth decimal: the stored sums are exact (numeric), the orders' are summed as doubles, so a
    /// value on a rounding boundary (202.05 / 8 = 25.25625) can round either way.
    @Test func presentRescoringFromStoredActivitiesEqualsOneFromTheOrders() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            let pool = environment.pool
            try await ScoringHarness.store(try Self.recentCDNOW(), pool: pool)
            let now = Date()
            let orders = Self.recentOrders(now: now)
            try await ScoringHarness.store(orders.first + orders.second, pool: pool)
            // A customer registered without any order (the empty row its registration made), and R8 with every order
            // removed (an emptied row).
            try await pool.execute("INSERT INTO customers (customer_id) VALUES ('P-none')")
            try await pool.execute("DELETE FROM orders WHERE customer_id = 'R8'")
            var rescoring = ScoringHarness.rescoring(pool)
            rescoring.readsStoredActivity = false
            // Every customer's first stage is announced by each run, 500 at a time.
            rescoring.announcementSlice = 500
            // Both as of one time (within the minute that still counts as the present): values that grow with time,
            // such as the simple lifetime value, then agree to the last digit.
            let asOf = Date()
            let fromOrders = try await rescoring.run(asOf: asOf)
            #expect(fromOrders.model.statistics["customers.read_from_orders"] == Double(fromOrders.customers))
            try await pool.execute("CREATE TABLE scores_from_orders AS SELECT * FROM customer_scores")
            try await pool.execute("DELETE FROM customer_score_history")
            try await pool.execute("DELETE FROM customer_scores")

            rescoring.readsStoredActivity = true
            // On a loaded machine the first run may take longer than the present's minute: the second then replays
            // the past, and announces nothing.
            let secondIsPresent = !FullRescoring.isReplay(asOf: asOf, started: Date())
            let fromActivities = try await rescoring.run(asOf: asOf)
            #expect(fromActivities.customers == fromOrders.customers)
            #expect(fromActivities.customers == 2357 + 40 + 1)
            let emptied = try await pool.query(
                """
                SELECT count(*) FROM customer_scores
                WHERE customer_id IN ('P-none', 'R8') AND orders_count = 0 AND lifecycle_stage = 'potential'
                """
            )
            #expect(try emptied[0].decode(0, as: Int.self) == 2)
            // Only R4, whose latest order lies after the as-of time, is read from its orders.
            #expect(fromActivities.model.statistics["customers.read_from_orders"] == 1)
            let bgnbd = try #require(fromActivities.model.bgnbd?.parameters)
            let before = try #require(fromOrders.model.bgnbd?.parameters)
            #expect(abs(bgnbd.r - before.r) < 1e-9 && abs(bgnbd.a - before.a) < 1e-9)

            let differing = try await pool.query(
                """
                SELECT coalesce(a.customer_id, b.customer_id) FROM scores_from_orders a
                FULL JOIN customer_scores b ON a.customer_id = b.customer_id
                WHERE a.customer_id IS NULL OR b.customer_id IS NULL
                   OR (a.orders_count, a.transactions, a.first_order_at, a.last_order_at, a.recency_days, a.rfm_r,
                       a.rfm_f, a.rfm_m, a.p_alive, a.expected_purchases_90d, a.expected_interval_days,
                       a.lifecycle_stage, a.lifecycle_rule, a.tier, a.grid, a.grid_axis, a.strategy, a.rfm_segment)
                      IS DISTINCT FROM
                      (b.orders_count, b.transactions, b.first_order_at, b.last_order_at, b.recency_days, b.rfm_r,
                       b.rfm_f, b.rfm_m, b.p_alive, b.expected_purchases_90d, b.expected_interval_days,
                       b.lifecycle_stage, b.lifecycle_rule, b.tier, b.grid, b.grid_axis, b.strategy, b.rfm_segment)
                   OR (a.clv_predicted IS NULL) <> (b.clv_predicted IS NULL)
                   OR greatest(abs(a.monetary_total - b.monetary_total), abs(a.monetary_average - b.monetary_average),
                               abs(a.clv_historical - b.clv_historical), abs(a.clv_simple - b.clv_simple),
                               abs(coalesce(a.clv_predicted - b.clv_predicted, 0))) > 0.0001
                   OR abs(coalesce(a.margin_rate, 0) - coalesce(b.margin_rate, 0)) > 1e-12
                ORDER BY 1 LIMIT 10
                """
            )
            let ids = try differing.map { try $0.decode(0, as: String.self) }
            #expect(ids.isEmpty, "scores differ for \(ids)")

            // Each run of the present announced each customer's first stage once, over several slices.
            let announced = try await pool.query(
                """
                SELECT count(*), count(DISTINCT body::jsonb ->> 'customer_id')
                FROM crm_outbox WHERE exchange = 'crm.lifecycle'
                """
            )
            #expect(try announced[0].decode(0, as: Int.self) == (secondIsPresent ? 2 : 1) * fromOrders.customers)
            #expect(try announced[0].decode(1, as: Int.self) == fromOrders.customers)
            #expect(
                fromActivities.model.statistics["lifecycle_events"]
                    == Double(secondIsPresent ? fromActivities.customers : 0)
            )

            // R4's order ahead is not counted; its others are.
            let r4 = try await pool.query(
                """
                SELECT s.orders_count, (SELECT count(*) FROM orders WHERE customer_id = 'R4' AND kind = 'purchase')
                FROM customer_scores s WHERE s.customer_id = 'R4'
                """
            )
            #expect(try r4[0].decode(0, as: Int.self) == r4[0].decode(1, as: Int.self) - 1)
            // Costs, refunds and several orders a day were in the comparison.
            let shapes = try await pool.query(
                """
                SELECT count(*) FILTER (WHERE margin_rate IS NOT NULL), count(*) FILTER (WHERE orders_count > transactions),
                       count(*) FILTER (WHERE lifecycle_stage NOT IN ('termination', 'potential'))
                FROM customer_scores
                """
            )
            #expect(try shapes[0].decode(0, as: Int.self) > 10)
            #expect(try shapes[0].decode(1, as: Int.self) > 5)
            #expect(try shapes[0].decode(2, as: Int.self) > 5)
        }
    }
}
