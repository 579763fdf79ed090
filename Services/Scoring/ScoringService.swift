import Shared

/// The parts of `crm-scoring` that run inside the service host.
public enum ScoringService {
    /// The broker objects this service declares and touches.
    public static let topology = Topology.scoring

    /// Builds the service's long-running parts from its context.
    public static func parts(_ context: ServiceContext) async throws -> ServiceParts {
        ServiceParts(services: [])
    }
}
