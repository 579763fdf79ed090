import Shared

/// The parts of `crm-complaints` that run inside the service host.
public enum ComplaintsService {
    /// The broker objects this service declares and touches.
    public static let topology = Topology.complaints(desks: [])

    /// Builds the service's long-running parts from its context.
    public static func parts(_ context: ServiceContext) async throws -> ServiceParts {
        ServiceParts(services: [])
    }
}
