/// An error that says whether trying the same work again later may succeed.
public protocol TransientClassifiable: Error {
    /// True for outages (connection lost, server restarting, serialization failure), false for bad data.
    var isTransient: Bool { get }
}
