import Testing

/// Tests of the system as deployed: real executables, and the servers restarted under load.
/// Serialized as a whole, since a broker or database restart disturbs every other test.
@Suite(.serialized)
struct SystemTests {}
