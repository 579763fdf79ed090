import CRMContract
import CRMPostgres
import CRMSupport
import Foundation

/// What the system knows of the customers of a batch of complaints, read set-wise in one statement.
///
/// Value comes from `customer_scores` (kept by `crm-scoring`), region from `customers` (kept by `crm-intake`),
/// complaint counts from `complaints` itself. Every join is a LEFT JOIN: a customer may have no score yet, or not
/// exist at all, and is routed with what is known. The same statement says whether the complaint is stored already,
/// so a batch costs one round trip before its insert.
struct CustomerLookup {
    /// One customer as found.
    struct Record: Sendable {
        /// Whether the complaint itself is stored already (a duplicate).
        var stored: Bool
        /// Whether `customers` has the customer (intake has seen an order of theirs).
        var known: Bool
        var snapshot: CustomerSnapshot
    }

    /// The customer of each request (complaint id, customer id, start of the repeat window), in request order.
    static func records(
        for requests: [(complaintID: String, customerID: String, since: Date)],
        on connection: isolated PostgresConnection
    ) throws -> [Record] {
        guard !requests.isEmpty else { return [] }
        let rows = try connection.query(
            """
            SELECT i.n, c.customer_id IS NOT NULL, c.region, s.tier, s.lifecycle_stage,
                   COALESCE(s.clv_predicted, s.clv_historical),
                   COALESCE(s.orders_count, (SELECT count(*) FROM orders o
                                             WHERE o.customer_id = i.id AND o.kind = 'purchase' AND NOT o.held)),
                   (SELECT count(*) FROM complaints k WHERE k.customer_id = i.id AND k.state <> 'resolved'),
                   (SELECT count(*) FROM complaints k WHERE k.customer_id = i.id AND k.received_at >= i.since),
                   EXISTS (SELECT 1 FROM complaints k WHERE k.complaint_id = i.complaint)
            FROM unnest($1::text[], $2::timestamptz[], $3::text[]) WITH ORDINALITY AS i(id, since, complaint, n)
            LEFT JOIN customers c ON c.customer_id = i.id
            LEFT JOIN customer_scores s ON s.customer_id = i.id
            """,
            [requests.map(\.customerID), requests.map(\.since), requests.map(\.complaintID)]
        )
        var records = [Record](
            repeating: Record(stored: false, known: false, snapshot: .unknown),
            count: requests.count
        )
        for row in rows {
            let position: Int = try row.decode(0) - 1
            let known: Bool = try row.decode(1)
            let tier = try row.decodeIfPresent(3, as: String.self).flatMap(CustomerTier.init(rawValue:)) ?? .unknown
            let snapshot = CustomerSnapshot(
                tier: tier,
                lifecycleStage: try row.decodeIfPresent(4, as: String.self).flatMap(LifecycleStage.init(rawValue:)),
                clv: try row.decodeIfPresent(5, as: Decimal.self),
                ordersCount: try row.decode(6),
                openComplaints: try row.decode(7),
                recentComplaints: try row.decode(8),
                region: try row.decodeIfPresent(2, as: String.self)
            )
            records[position] = Record(stored: try row.decode(9), known: known, snapshot: snapshot)
        }
        return records
    }
}
