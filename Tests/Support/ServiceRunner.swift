import CRMAMQP
import CRMRuntime
import CRMSupport
import ServiceLifecycle

/// Waits until `condition` holds, checking every `interval` for up to `timeout`. A check that throws (a server
/// restarting under another test) counts as "not yet"; only the last try's error reaches the caller.
public func eventually(
    _ timeout: Duration = .seconds(30),
    every interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}

extension TestEnvironment {
    /// Declares `topology` in this test's vhost as the administrator, as `crm migrate` does.
    public func declare(_ topology: Topology) async throws {
        let publisher = AMQPPublisher(settings: amqp, name: "declare", topology: topology, logger: TestServers.logger)
        do {
            try await publisher.connect()
        } catch {
            await publisher.close()
            throw error
        }
        await publisher.close()
    }

    /// A service's context built exactly as its executable builds it: the environment's URLs, then `settings`.
    public func serviceContext(
        name: String,
        topology: Topology?,
        settings: [String: String] = [:],
        broker: Bool = true
    ) throws -> ServiceContext {
        try ServiceHost.makeContext(
            name: name,
            settings: Settings(serviceVariables.merging(settings) { $1 }),
            topology: topology,
            broker: broker
        )
    }

    /// Runs `replicas` replicas of a service while `body` runs, then stops them and closes their connections.
    ///
    /// Each replica gets a context of its own (`<name>-0`, `<name>-1`, …) and the parts the service's own wiring
    /// (`parts`, e.g. `IntakeService.parts`) builds from it, as its executable would; `body` is given the contexts.
    public func whileRunning<T: Sendable>(
        _ name: String,
        topology: Topology?,
        settings: [String: String] = [:],
        options: ServiceHost.Options = .standard,
        replicas: Int = 1,
        parts: (ServiceContext) async throws -> ServiceParts,
        _ body: @escaping @Sendable ([ServiceContext]) async throws -> T
    ) async throws -> T {
        // What `crm migrate` does in a deployment: the service itself only checks that its topology exists.
        if let topology { try await declare(topology) }
        var contexts: [ServiceContext] = []
        var services: [any Service] = []
        for replica in 0..<replicas {
            let context = try serviceContext(
                name: "\(name)-\(replica)",
                topology: topology,
                settings: settings,
                broker: options.broker
            )
            contexts.append(context)
            services += try await parts(context).services
        }
        let (running, all) = (services, contexts)
        let result = try await withThrowingTaskGroup(of: T?.self) { group in
            for service in running {
                group.addTask {
                    try await service.run()
                    return nil
                }
            }
            group.addTask { try await body(all) }
            var result: T?
            for try await value in group {
                if let value {
                    result = value
                    group.cancelAll()
                }
            }
            return result!
        }
        for context in contexts { await context.close() }
        return result
    }
}
