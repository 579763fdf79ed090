import CRMRuntime
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The parts of `crm-console` that run inside the service host: one Hummingbird application on `CRM_HTTP_PORT`
/// serving the pages under `/console/` and, like every service, `/health/live`, `/health/ready` and `/metrics`.
///
/// The console reads PostgreSQL only: it runs without a broker (its readiness is the database's), and answers HTTP
/// itself rather than through the host's small server, whose routes are GET-only and which has no middleware,
/// cookies or forms.
public enum ConsoleService {
    /// No broker; the console serves its own HTTP.
    public static let hostOptions = ServiceHost.Options(broker: false, http: .service)

    /// Builds the application. Settings: ``ConsoleConfiguration``.
    public static func parts(_ context: ServiceContext) async throws -> ServiceParts {
        let configuration = try ConsoleConfiguration(context.settings)
        let application = application(context: context, configuration: configuration)
        return ServiceParts(services: [application])
    }

    /// The Hummingbird application of `context`: its router, middleware and listener.
    static func application(
        context: ServiceContext,
        configuration: ConsoleConfiguration
    ) -> some ApplicationProtocol {
        let routes = ConsoleRoutes(
            pool: context.pool,
            configuration: configuration,
            sessions: SessionStore(
                pool: context.pool,
                idle: configuration.sessionIdle,
                maximum: configuration.sessionMaximum
            ),
            limiter: LoginLimiter(
                pool: context.pool,
                userLimit: configuration.loginUserLimit,
                addressLimit: configuration.loginAddressLimit,
                window: configuration.loginWindow
            ),
            health: HealthResponses(context: context),
            logger: context.logger
        )
        return Application(
            router: routes.router(),
            configuration: .init(
                address: .hostname(context.httpHost, port: context.httpPort),
                serverName: context.name
            ),
            onServerRunning: { channel in
                context.logger.info(
                    "HTTP listening",
                    metadata: ["http.port": "\(channel.localAddress?.port ?? context.httpPort)"]
                )
            },
            logger: context.logger
        )
    }
}
