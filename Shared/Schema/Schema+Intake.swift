extension Schema {
    /// Customers and their orders as `crm-intake` stores them, and the operators' exchange rates.
    ///
    /// A refund whose purchase has not arrived yet is stored `held`: it counts once the purchase
    /// of the same customer arrives, so arrival order never changes a customer's value.
    static let intake = Migration(
        version: 2,
        name: "intake",
        sql: """
            CREATE TABLE customers (
                customer_id text PRIMARY KEY,
                name text,
                email text,
                region text,
                customer_type text CHECK (customer_type IN ('final', 'intermediate')),
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now()
            );

            CREATE TABLE orders (
                order_id text PRIMARY KEY,
                customer_id text NOT NULL REFERENCES customers (customer_id),
                kind text NOT NULL CHECK (kind IN ('purchase', 'refund')),
                original_order_id text,
                occurred_at timestamptz NOT NULL,
                amount numeric(19, 4) NOT NULL CHECK (amount >= 0),
                currency text NOT NULL,
                amount_base numeric(19, 4) NOT NULL CHECK (amount_base >= 0),
                cost numeric(19, 4) CHECK (cost >= 0),
                cost_base numeric(19, 4) CHECK (cost_base >= 0),
                channel text,
                held boolean NOT NULL DEFAULT false,
                content_hash text NOT NULL,
                received_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX orders_customer ON orders (customer_id, occurred_at);
            CREATE INDEX orders_held ON orders (original_order_id) WHERE held;

            CREATE TABLE order_items (
                order_id text NOT NULL REFERENCES orders (order_id) ON DELETE CASCADE,
                position integer NOT NULL,
                sku text NOT NULL,
                quantity integer NOT NULL CHECK (quantity > 0),
                unit_price numeric(19, 4),
                category text,
                PRIMARY KEY (order_id, position)
            );

            CREATE TABLE fx_rates (
                currency text PRIMARY KEY,
                rate_to_base numeric(24, 10) NOT NULL CHECK (rate_to_base > 0),
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            """
    )
}

extension Schema {
    /// An order's customer is guaranteed by its writer, and kept by a trigger on the customer's side.
    ///
    /// `crm-intake` is the only writer of orders and creates each order's customer in the same transaction (see
    /// ``customerChangesWaitForOrders`` for the order of the two). The foreign key checked that again for every
    /// stored order: a probe of `customers` and a row lock written (and logged) on the customer's row, on the
    /// hottest path there is (BENCHMARKS.md, "Design choices").
    /// What the key also did, refusing to delete or rename a customer that has orders, the trigger does: it looks
    /// the customer's orders up (index `orders_customer`) only when a customer row is deleted or its id changed,
    /// which nothing in crm ever does, after waiting for every transaction writing orders to end, so an order
    /// being stored for that customer at that moment is seen.
    static let orderCustomerReference = Migration(
        version: 10,
        name: "order customer reference",
        sql: """
            ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_customer_id_fkey;

            CREATE OR REPLACE FUNCTION crm_customer_keeps_orders() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                -- Waits for transactions writing orders to end (and holds new ones back until this one ends), so
                -- the check below sees an order committed meanwhile: what the key's row lock did.
                LOCK TABLE orders IN SHARE MODE;
                IF EXISTS (SELECT 1 FROM orders WHERE customer_id = OLD.customer_id) THEN
                    RAISE EXCEPTION 'customer % has orders', OLD.customer_id
                        USING ERRCODE = 'foreign_key_violation', TABLE = 'customers',
                              HINT = 'orders name their customer; a customer with orders is neither deleted nor renamed';
                END IF;
                RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
            END
            $$;
            CREATE TRIGGER customers_keep_orders_on_delete BEFORE DELETE ON customers
                FOR EACH ROW EXECUTE FUNCTION crm_customer_keeps_orders();
            CREATE TRIGGER customers_keep_orders_on_rename BEFORE UPDATE OF customer_id ON customers
                FOR EACH ROW WHEN (OLD.customer_id IS DISTINCT FROM NEW.customer_id) EXECUTE FUNCTION crm_customer_keeps_orders();
            """
    )
}

extension Schema {
    /// A delete or rename of customers waits for the transactions writing orders before it locks any customer row.
    ///
    /// Intake writes a batch's orders before their customers, so a customer's first order is stored and its row
    /// updated (name, region, ...) after it. The row trigger of ``orderCustomerReference`` waited for those
    /// transactions only once the delete had locked the customer's row: a batch updating that customer then waited
    /// for the delete, the delete for the batch, and PostgreSQL aborted one of them. Waiting at the statement's
    /// start leaves the batch free to finish; the row trigger then sees its order and refuses the delete.
    static let customerChangesWaitForOrders = Migration(
        version: 12,
        name: "customer changes wait for orders",
        sql: """
            CREATE OR REPLACE FUNCTION crm_customers_wait_for_orders() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                LOCK TABLE orders IN SHARE MODE;
                RETURN NULL;
            END
            $$;
            CREATE TRIGGER customers_wait_for_orders_on_delete BEFORE DELETE ON customers
                FOR EACH STATEMENT EXECUTE FUNCTION crm_customers_wait_for_orders();
            CREATE TRIGGER customers_wait_for_orders_on_rename BEFORE UPDATE OF customer_id ON customers
                FOR EACH STATEMENT EXECUTE FUNCTION crm_customers_wait_for_orders();
            """
    )
}
