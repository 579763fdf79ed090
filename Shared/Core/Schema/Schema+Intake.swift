extension Schema {
    /// Customers and their orders as `crm-intake` stores them, and the operators' exchange rates.
    ///
    /// A refund whose purchase has not arrived yet is stored `held`: it counts once the purchase
    /// of the same customer arrives, so arrival order never changes a customer's value.
    static let intake = Migration(
        version: 2, name: "intake",
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
            """)
}
