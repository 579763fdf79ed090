import ServiceLifecycle

/// Sleeps for `duration`, returning early (by throwing `CancellationError`) on graceful shutdown.
public func gracefulSleep(_ duration: Duration) async throws {
    try await cancelWhenGracefulShutdown {
        try await Task.sleep(for: duration)
    }
}
