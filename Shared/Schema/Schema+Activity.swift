extension Schema {
    /// `customer_activity`: every customer's counted orders (held refunds left out) summed up, one row per customer,
    /// kept current by triggers on `orders` in the transaction that changes them, so that a full rescoring of the
    /// present reads a row per customer instead of sorting every order (``FullRescoring``; a replay far back and a
    /// holdout validation still read the orders).
    ///
    /// - `last_order_at`: the latest time of the counted orders, purchases or refunds; a rescoring as of an earlier time
    ///   reads that customer's orders instead. Null when no order counts (all held or removed).
    /// - `purchases`, `first_purchase_at`, `last_purchase_at`: purchase orders, the first and the last.
    /// - `net_revenue`, `net_value`: purchases minus refunds, by amount and by value (margin where an order carries a
    ///   cost, amount where not); `costed_revenue`, `costed_margin`, `has_cost`: the same net sums over the orders with
    ///   a cost, for the margin rate.
    /// - `purchase_days`, `day_values`: the UTC days (since 1970) with purchases, ascending, and the value of each
    ///   day's purchases: what the purchase models' summary, the lifecycle windows and the cohorts need.
    ///
    /// Every sum is `numeric`, so adding orders to a row gives exactly what summing them all up again gives. Stored
    /// orders are added (`crm_orders_inserted`): one upsert per statement that adds each customer's new sums to its row
    /// and merges the days, evaluated on the row's latest version under its lock, so two transactions storing orders
    /// of one customer both count. Orders released, changed or removed (rare: held refunds, `crm orders remove`) have
    /// their customers summed up again from the orders (`crm_refresh_customer_activity`: their rows locked in id order
    /// first, the orders read in a statement of its own, which under READ COMMITTED sees what others committed). The
    /// view `customer_activity_from_orders` computes the rows from the orders (a filter on `customer_id` reaches the
    /// orders' index through its groupings). The triggers run with their owner's rights, so no service writes the
    /// table. It is filled from the stored orders here.
    static let customerActivity = Migration(
        version: 37,
        name: "customer activity",
        sql: """
            CREATE TABLE customer_activity (
                customer_id text PRIMARY KEY,
                last_order_at timestamptz,
                purchases integer NOT NULL DEFAULT 0,
                first_purchase_at timestamptz,
                last_purchase_at timestamptz,
                net_revenue numeric NOT NULL DEFAULT 0,
                net_value numeric NOT NULL DEFAULT 0,
                costed_revenue numeric NOT NULL DEFAULT 0,
                costed_margin numeric NOT NULL DEFAULT 0,
                has_cost boolean NOT NULL DEFAULT false,
                purchase_days integer[] NOT NULL DEFAULT '{}',
                day_values numeric[] NOT NULL DEFAULT '{}'
            );

            CREATE VIEW customer_activity_from_orders AS
            \(activitySums(of: "orders"));

            \(refreshActivity("CREATE", days: refreshedDayArrays))
            REVOKE ALL ON FUNCTION crm_refresh_customer_activity(text[]) FROM PUBLIC;

            \(ordersInserted("CREATE", days: dayArrays, merge: mergedDayArrays))
            REVOKE ALL ON FUNCTION crm_orders_inserted() FROM PUBLIC;

            CREATE FUNCTION crm_orders_changed() RETURNS trigger
                LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            DECLARE
                ids text[];
            BEGIN
                SELECT array_agg(DISTINCT customer_id) INTO ids FROM changed;
                IF ids IS NOT NULL THEN
                    PERFORM public.crm_refresh_customer_activity(ids);
                END IF;
                RETURN NULL;
            END
            $$;
            REVOKE ALL ON FUNCTION crm_orders_changed() FROM PUBLIC;

            CREATE TRIGGER orders_activity_inserted AFTER INSERT ON orders REFERENCING NEW TABLE AS changed
                FOR EACH STATEMENT EXECUTE FUNCTION crm_orders_inserted();
            CREATE TRIGGER orders_activity_updated AFTER UPDATE ON orders REFERENCING NEW TABLE AS changed
                FOR EACH STATEMENT EXECUTE FUNCTION crm_orders_changed();
            CREATE TRIGGER orders_activity_deleted AFTER DELETE ON orders REFERENCING OLD TABLE AS changed
                FOR EACH STATEMENT EXECUTE FUNCTION crm_orders_changed();

            INSERT INTO customer_activity SELECT * FROM customer_activity_from_orders;
            """
    )

    /// The purchase days' columns of ``activitySums(of:days:)`` as migration 37 made them: the days and their values in
    /// two arrays.
    private static let dayArrays = """
        coalesce(array_agg(day ORDER BY day) FILTER (WHERE purchases > 0), '{}') AS purchase_days,
                   coalesce(array_agg(value ORDER BY day) FILTER (WHERE purchases > 0), '{}') AS day_values
        """

    /// How ``refreshActivity(_:days:)`` set the days as two arrays (migration 37).
    private static let refreshedDayArrays = """
        purchase_days = coalesce(r.purchase_days, '{}'),
                    day_values = coalesce(r.day_values, '{}')
        """

    /// How ``ordersInserted(_:days:merge:)`` merged the days as two arrays (migration 37).
    private static let mergedDayArrays = """
        (purchase_days, day_values) = (
                    SELECT coalesce(array_agg(m.day ORDER BY m.day), '{}'), coalesce(array_agg(m.value ORDER BY m.day), '{}')
                    FROM (SELECT u.day, sum(u.value) AS value
                          FROM unnest(a.purchase_days || EXCLUDED.purchase_days, a.day_values || EXCLUDED.day_values)
                               AS u(day, value)
                          GROUP BY u.day) AS m
                );
        """

    /// `crm_refresh_customer_activity(ids)`, made by `create` (`CREATE`, `CREATE OR REPLACE`): sums the customers
    /// `ids` up again from their orders; `days` sets the purchase days' columns from the orders' row `r`.
    private static func refreshActivity(_ create: String, days: String) -> String {
        """
        \(create) FUNCTION crm_refresh_customer_activity(ids text[]) RETURNS void
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            -- Lock (creating where missing) in id order: concurrent writers of one customer take turns.
            INSERT INTO public.customer_activity (customer_id) SELECT id FROM unnest(ids) AS id ORDER BY id
            ON CONFLICT (customer_id) DO NOTHING;
            PERFORM 1 FROM public.customer_activity WHERE customer_id = ANY(ids) ORDER BY customer_id FOR UPDATE;
            -- A statement of its own: it sees every order committed before the locks were granted. Planned for
            -- the ids at hand (EXECUTE): the orders' index for a few, one pass over all orders for many.
            EXECUTE $update$
                UPDATE public.customer_activity AS a SET
                    last_order_at = r.last_order_at, purchases = coalesce(r.purchases, 0),
                    first_purchase_at = r.first_purchase_at, last_purchase_at = r.last_purchase_at,
                    net_revenue = coalesce(r.net_revenue, 0), net_value = coalesce(r.net_value, 0),
                    costed_revenue = coalesce(r.costed_revenue, 0), costed_margin = coalesce(r.costed_margin, 0),
                    has_cost = coalesce(r.has_cost, false), \(days)
                FROM unnest($1) AS i(id)
                    LEFT JOIN (SELECT * FROM public.customer_activity_from_orders WHERE customer_id = ANY($1)) AS r
                        ON r.customer_id = i.id
                WHERE a.customer_id = i.id
            $update$ USING ids;
        END
        $$;
        """
    }

    /// `crm_orders_inserted()`, made by `create`: adds the orders a statement stored to their customers' rows; `days`
    /// aggregates the purchase days' columns of the statement's orders (``activitySums(of:days:)``), `merge` sets the
    /// row's from them and the stored ones (`a`, `EXCLUDED`).
    private static func ordersInserted(_ create: String, days: String, merge: String) -> String {
        """
        \(create) FUNCTION crm_orders_inserted() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            INSERT INTO public.customer_activity AS a
            SELECT * FROM (\(activitySums(of: "changed", days: days))) AS n ORDER BY n.customer_id
            ON CONFLICT (customer_id) DO UPDATE SET
                last_order_at = greatest(a.last_order_at, EXCLUDED.last_order_at),
                purchases = a.purchases + EXCLUDED.purchases,
                first_purchase_at = least(a.first_purchase_at, EXCLUDED.first_purchase_at),
                last_purchase_at = greatest(a.last_purchase_at, EXCLUDED.last_purchase_at),
                net_revenue = a.net_revenue + EXCLUDED.net_revenue, net_value = a.net_value + EXCLUDED.net_value,
                costed_revenue = a.costed_revenue + EXCLUDED.costed_revenue,
                costed_margin = a.costed_margin + EXCLUDED.costed_margin,
                has_cost = a.has_cost OR EXCLUDED.has_cost,
                \(merge)
            RETURN NULL;
        END
        $$;
        """
    }

    /// The `customer_activity` rows of the counted orders in `orders` (a table, or a trigger's transition table of
    /// `orders` rows), one per customer, in the table's column order; `days` aggregates the purchase days' columns
    /// from the rows `day` and `value` (a customer's days, with `purchases` on each).
    private static func activitySums(of orders: String, days: String = dayArrays) -> String {
        """
        WITH days AS (
                SELECT o.customer_id, floor(date_part('epoch', o.occurred_at) / 86400)::integer AS day,
                       max(o.occurred_at) AS last_order_at,
                       count(*) FILTER (WHERE o.kind = 'purchase') AS purchases,
                       min(o.occurred_at) FILTER (WHERE o.kind = 'purchase') AS first_purchase_at,
                       max(o.occurred_at) FILTER (WHERE o.kind = 'purchase') AS last_purchase_at,
                       sum(o.amount_base - coalesce(o.cost_base, 0)) FILTER (WHERE o.kind = 'purchase') AS value,
                       sum(CASE o.kind WHEN 'purchase' THEN o.amount_base ELSE -o.amount_base END) AS net_revenue,
                       sum(CASE o.kind WHEN 'purchase' THEN 1 ELSE -1 END
                           * (o.amount_base - coalesce(o.cost_base, 0))) AS net_value,
                       sum(CASE o.kind WHEN 'purchase' THEN o.amount_base ELSE -o.amount_base END)
                           FILTER (WHERE o.cost_base IS NOT NULL) AS costed_revenue,
                       sum(CASE o.kind WHEN 'purchase' THEN 1 ELSE -1 END * (o.amount_base - o.cost_base))
                           FILTER (WHERE o.cost_base IS NOT NULL) AS costed_margin,
                       bool_or(o.cost_base IS NOT NULL) AS has_cost
                FROM \(orders) o
                WHERE NOT o.held
                GROUP BY 1, 2
            )
            SELECT customer_id, max(last_order_at) AS last_order_at, sum(purchases)::integer AS purchases,
                   min(first_purchase_at) AS first_purchase_at, max(last_purchase_at) AS last_purchase_at,
                   sum(net_revenue) AS net_revenue, sum(net_value) AS net_value,
                   coalesce(sum(costed_revenue), 0) AS costed_revenue,
                   coalesce(sum(costed_margin), 0) AS costed_margin, bool_or(has_cost) AS has_cost,
                   \(days)
            FROM days
            GROUP BY customer_id
        """
    }
}

extension Schema {
    /// `customer_scores` pages filled to half (`fillfactor = 50`): every rescoring rewrites each score, and with room on
    /// its page the new version is a heap-only tuple (HOT) whenever no indexed column (tier, stage, segment, grid, last
    /// order) changed, which is nearly always: none of the table's seven indexes is touched. On a million scores the
    /// rescoring's UPDATE took 6.0–6.5 s instead of 20–27 s, for a table of 434 MB instead of 313 MB.
    ///
    /// It shapes the pages written from now on: a table already large moves to the new layout during the first full
    /// rescoring after the upgrade and keeps its old pages as free space until `VACUUM FULL customer_scores`.
    static let scoresUpdatedInPlace = Migration(
        version: 38,
        name: "scores updated in place",
        sql: """
            ALTER TABLE customer_scores SET (fillfactor = 50);
            """
    )
}

extension Schema {
    /// Every customer has its `customer_activity` row from the moment it is stored: an empty one (no counted order,
    /// `last_order_at` null, zero sums, no days) for a customer known before its first order, filled in by the triggers
    /// on `orders` as orders arrive. A full rescoring then reads every customer from that one table: finding the
    /// customers without a row had taken an anti-join of every customer with every activity (a second pass over the
    /// activities and a hash of every customer id: at ten million customers, 3 GB read again and 600 MB hashed, for
    /// none found in a base where everyone has ordered). A statement trigger on `customers` adds the rows of the
    /// customers it inserted, in id order, with the owner's rights as the other triggers; another takes the rows of
    /// deleted customers along (only a customer without orders can be deleted).
    ///
    /// Every writer takes a new customer's row in `customers` before its row here: stored orders first store their
    /// customers that are missing (`orders_activity_customers`, which fires before `orders_activity_inserted` because
    /// triggers on one event fire in the order of their names). Intake stores a batch's orders before it upserts their
    /// customers, so without it a batch holding a new customer's activity row and a customer message inserting that
    /// customer would each wait for the other.
    static let activityOfEveryCustomer = Migration(
        version: 40,
        name: "an activity row for every customer",
        sql: """
            \(statementTrigger(
                "customers_activity_inserted", after: "INSERT", on: "customers", rows: "NEW TABLE AS added",
                does: """
                    INSERT INTO public.customer_activity (customer_id)
                    SELECT customer_id FROM added ORDER BY customer_id
                    ON CONFLICT (customer_id) DO NOTHING
                    """
            ))
            \(statementTrigger(
                "orders_activity_customers", after: "INSERT", on: "orders", rows: "NEW TABLE AS changed",
                does: """
                    INSERT INTO public.customers (customer_id)
                    SELECT DISTINCT customer_id FROM changed ORDER BY customer_id
                    ON CONFLICT (customer_id) DO NOTHING
                    """
            ))
            \(statementTrigger(
                "customers_activity_deleted", after: "DELETE", on: "customers", rows: "OLD TABLE AS removed",
                does: "DELETE FROM public.customer_activity a USING removed r WHERE a.customer_id = r.customer_id"
            ))
            INSERT INTO customer_activity (customer_id)
            SELECT customer_id FROM customers ORDER BY customer_id
            ON CONFLICT (customer_id) DO NOTHING;
            """
    )

    /// A statement trigger `name` and its function `crm_<name>`, which runs `statement` with its owner's rights (so no
    /// service needs rights on the tables it writes) and a search path that no caller can change.
    private static func statementTrigger(
        _ name: String,
        after event: String,
        on table: String,
        rows transition: String,
        does statement: String
    ) -> String {
        """
        CREATE FUNCTION crm_\(name)() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            \(statement);
            RETURN NULL;
        END
        $$;
        REVOKE ALL ON FUNCTION crm_\(name)() FROM PUBLIC;
        CREATE TRIGGER \(name) AFTER \(event) ON \(table) REFERENCING \(transition)
            FOR EACH STATEMENT EXECUTE FUNCTION crm_\(name)();

        """
    }
}

extension Schema {
    /// `customer_activity.purchase_days` packs each purchase day and its value into one `bytea` instead of an
    /// `integer[]` of days and a `numeric[]` of values (`day_values`, dropped): every full rescoring of the present
    /// reads it for every customer, and PostgreSQL sends an array element by element (each through its type's send
    /// function), two thirds of the values of the read; a `bytea` goes out as it is stored.
    ///
    /// Each day is 12 bytes, big-endian: the day (`integer`, days since 1970, UTC) and the value of its purchases in
    /// ten-thousandths (`bigint`: the orders' money has four decimals, so this is exact), ascending by day, one entry
    /// a day. A day whose value is beyond a `bigint` of ten-thousandths (900 trillion, which no single order reaches,
    /// but a day of several may) takes as many consecutive entries as it needs, which add up to it exactly
    /// (`crm_purchase_day`). `crm_purchase_days(packed)` gives the days and values back as rows, for checks and
    /// reports.
    ///
    /// The trigger that adds a statement's orders appends its days when they all come after the row's last day (the
    /// usual case: new orders are the newest), adds a single day on the row's last day to that day's entry (a second
    /// statement the same day), and otherwise sums every day up again (orders dated before the customer's latest day),
    /// so a row is always in the one form the orders give (`customer_activity_from_orders` packs the same way). The
    /// arrays' trigger unnested, grouped and aggregated a row's days again on every statement.
    ///
    /// The migration rewrites `customer_activity` once (at ten million customers about 3 GB, a few minutes, during
    /// which storing orders waits for it).
    static let packedPurchaseDays = Migration(
        version: 42,
        name: "packed purchase days",
        sql: """
            CREATE FUNCTION crm_purchase_day_pieces(day integer, units numeric) RETURNS bytea
                LANGUAGE sql IMMUTABLE PARALLEL SAFE
                RETURN (
                    SELECT string_agg(
                        int4send(day) || int8send(
                            (CASE WHEN i < p.n THEN trunc(units / p.n) ELSE units - (p.n - 1) * trunc(units / p.n) END)::bigint
                        ),
                        ''::bytea ORDER BY i
                    )
                    FROM (SELECT ceil(abs(units) / 9000000000000000000)::integer AS n) AS p, generate_series(1, p.n) AS i
                );

            CREATE FUNCTION crm_purchase_day(day integer, value numeric) RETURNS bytea
                LANGUAGE sql IMMUTABLE PARALLEL SAFE
                RETURN CASE WHEN abs(value) < 900000000000000 THEN int4send(day) || int8send((value * 10000)::bigint)
                            ELSE crm_purchase_day_pieces(day, value * 10000) END;

            CREATE FUNCTION crm_purchase_day_at(packed bytea, byte integer) RETURNS integer
                LANGUAGE sql IMMUTABLE PARALLEL SAFE
                RETURN ('x' || encode(substring(packed FROM byte + 1 FOR 4), 'hex'))::bit(32)::integer;

            CREATE FUNCTION crm_purchase_value_at(packed bytea, byte integer) RETURNS numeric
                LANGUAGE sql IMMUTABLE PARALLEL SAFE
                RETURN ('x' || encode(substring(packed FROM byte + 5 FOR 8), 'hex'))::bit(64)::bigint * 0.0001;

            CREATE FUNCTION crm_purchase_days(packed bytea) RETURNS TABLE (day integer, value numeric)
                LANGUAGE sql IMMUTABLE PARALLEL SAFE
                BEGIN ATOMIC
                    SELECT crm_purchase_day_at(packed, i), sum(crm_purchase_value_at(packed, i))
                    FROM generate_series(0, octet_length(packed) - 12, 12) AS i
                    GROUP BY 1
                    ORDER BY 1;
                END;

            CREATE FUNCTION crm_purchase_days_summed(packed bytea) RETURNS bytea
                LANGUAGE sql IMMUTABLE PARALLEL SAFE
                RETURN (SELECT coalesce(string_agg(crm_purchase_day(d.day, d.value), ''::bytea ORDER BY d.day), '')
                        FROM crm_purchase_days(packed) AS d);

            -- PL/pgSQL: the usual cases cost a few microseconds each (a SQL function with a sub-select costs tens).
            CREATE FUNCTION crm_merge_purchase_days(kept bytea, added bytea) RETURNS bytea
                LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
            DECLARE
                kept_end integer := octet_length(kept) - 12;
                first_added integer;
                last_kept integer;
            BEGIN
                IF added = '' THEN RETURN kept; END IF;
                IF kept_end < 0 THEN RETURN added; END IF;
                first_added := public.crm_purchase_day_at(added, 0);
                last_kept := public.crm_purchase_day_at(kept, kept_end);
                -- Days after the row's last: appended.
                IF first_added > last_kept THEN RETURN kept || added; END IF;
                -- One day, the row's last (a second statement that day), which is one entry: that entry added up.
                IF first_added = last_kept AND octet_length(added) = 12
                   AND (kept_end = 0 OR public.crm_purchase_day_at(kept, kept_end - 12) < first_added) THEN
                    RETURN substring(kept FOR kept_end) || public.crm_purchase_day(
                        first_added, public.crm_purchase_value_at(kept, kept_end) + public.crm_purchase_value_at(added, 0)
                    );
                END IF;
                -- Days before the row's last: every day summed up and packed again.
                RETURN public.crm_purchase_days_summed(kept || added);
            END
            $$;

            CREATE FUNCTION pg_temp.packed(days integer[], vals numeric[]) RETURNS bytea
                LANGUAGE sql IMMUTABLE
                RETURN (SELECT coalesce(string_agg(public.crm_purchase_day(d, v), ''::bytea ORDER BY n), '')
                        FROM unnest(days, vals) WITH ORDINALITY AS u(d, v, n));

            DROP VIEW customer_activity_from_orders;
            ALTER TABLE customer_activity
                ALTER COLUMN purchase_days DROP DEFAULT,
                ALTER COLUMN purchase_days TYPE bytea USING pg_temp.packed(purchase_days, day_values),
                ALTER COLUMN purchase_days SET DEFAULT '',
                DROP COLUMN day_values;
            DROP FUNCTION pg_temp.packed(integer[], numeric[]);

            CREATE VIEW customer_activity_from_orders AS
            \(activitySums(of: "orders", days: packedDays));

            \(refreshActivity("CREATE OR REPLACE", days: "purchase_days = coalesce(r.purchase_days, '')"))

            \(ordersInserted(
                "CREATE OR REPLACE",
                days: packedDays,
                merge: "purchase_days = public.crm_merge_purchase_days(a.purchase_days, EXCLUDED.purchase_days);"
            ))
            """
    )

    /// The packed purchase days of ``activitySums(of:days:)`` (``packedPurchaseDays``).
    private static let packedDays = """
        coalesce(string_agg(public.crm_purchase_day(day, value), ''::bytea ORDER BY day) FILTER (WHERE purchases > 0), '')
                           AS purchase_days
        """
}
