import CRMContract
import CRMSupport

/// Which customers are the control group: a stable hash of the customer id against `CRM_ALERTS_CONTROL_SHARE`.
///
/// The hash is the first 32 bits of the MD5 of the id's UTF-8 bytes, read as a fraction of 2³²: a customer is in the
/// control group when that fraction is below the share. It depends on nothing but the id, so a customer stays in its
/// group across evaluations, rescorings, replicas and restarts, and operators can reproduce it in SQL:
/// `('x' || left(md5(customer_id), 8))::bit(32)::bigint / 4294967296.0 < share`. Raising the share only moves
/// customers from `alerted` to `control`, never back.
public struct ControlGroup: Hashable, Sendable {
    /// The share of customers in the control group, 0...1; 0 for none.
    public var share: Double

    /// A control group of `share` of the customers.
    public init(share: Double) {
        self.share = min(max(share.isFinite ? share : 0, 0), 1)
    }

    /// The customer's place in `[0, 1)`, from the hash of its id.
    public static func position(of customerID: String) -> Double {
        let prefix = MD5.hex(customerID).prefix(8)
        return Double(UInt32(prefix, radix: 16) ?? 0) / 4_294_967_296
    }

    /// The group of a customer who qualifies for an alert.
    public func group(of customerID: String) -> AlertGroup {
        share > 0 && Self.position(of: customerID) < share ? .control : .alerted
    }
}
