/// The benchmarks' synthetic bases: orders drawn in Swift, copied into a temporary table
/// `synthetic (customer_id text, day integer, amount float8)`, then stored as purchases with one statement.
public enum SyntheticOrders {
    /// Stores the rows of `synthetic` as purchase orders in USD: order ids `<customer>-<n>`, each at noon (UTC) of its
    /// day counted from the origin, seconds since 1970 in `$1`.
    public static let insert = """
        INSERT INTO orders (order_id, customer_id, kind, occurred_at, amount, currency, amount_base, channel,
                            content_hash)
        SELECT customer_id || '-' || row_number() OVER (PARTITION BY customer_id), customer_id, 'purchase',
               to_timestamp($1::float8 + day * 86400.0 + 43200), round(amount::numeric, 4), 'USD',
               round(amount::numeric, 4), 'synthetic', 'synthetic'
        FROM synthetic
        """
}
