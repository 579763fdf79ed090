import Shared

/// The parts of `crm-alerts` that run inside the service host.
public enum AlertsService {
    /// The broker objects this service declares and touches.
    public static let topology = Topology.alerts

    /// Builds the service's long-running parts from its context.
    public static func parts(_ context: ServiceContext) async throws -> ServiceParts {
        ServiceParts(services: [])
    }
}
