/// How valuable the customer behind a retention alert is (`priority`): `p1` the most valuable at risk. Also the
/// `retention.pN` routing key and desk queue.
public enum AlertPriority: String, MessageVocabulary {
    /// The most valuable customers at risk.
    case p1
    /// Valuable customers at risk.
    case p2
    /// Other customers worth a call.
    case p3

    /// The routing key on `crm.alerts`, e.g. `retention.p1`.
    public var routingKey: String { "retention." + rawValue }
}
