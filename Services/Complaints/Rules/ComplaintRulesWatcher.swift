import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Shared

/// Keeps the rules in force current and every configured desk's queue declared.
///
/// Every `CRM_COMPLAINTS_RULES_REFRESH` it looks for a newer version in `complaint_rules`, compiles it and puts it
/// in force; it declares `desk.<name>` for every desk of the rules in force (at start-up and after each change),
/// retrying while the broker is away, so a routed complaint always has a queue to land in. A version that does not
/// compile (stored by hand, bypassing `crm rules load`) is logged once and skipped; the last good one stays.
public struct ComplaintRulesWatcher: Service {
    private let holder: ComplaintPolicyHolder
    private let pool: PostgresPool
    private let amqp: AMQPSettings
    private let configuration: ComplaintsConfiguration
    private let logger: Logger
    private let versionGauge = Gauge(label: "crm_complaints_rules_version")

    public init(
        holder: ComplaintPolicyHolder, pool: PostgresPool, amqp: AMQPSettings, configuration: ComplaintsConfiguration,
        logger: Logger
    ) {
        self.holder = holder
        self.pool = pool
        self.amqp = amqp
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        var declared: Set<String> = []
        var skipped: Int?
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let newer = await lookForNewer(skipping: skipped) {
                switch newer {
                case .success(let current):
                    holder.replace(with: current)
                    logger.info("Complaint rules in force", metadata: ["rules.version": "\(current.version)"])
                case .failure(let version, let error):
                    skipped = version
                    logger.error(
                        "Stored complaint rules do not compile; keeping the version in force",
                        metadata: ["rules.version": "\(version)", "error": "\(error)"])
                }
            }
            let current = holder.current
            versionGauge.record(current.version)
            let desks = current.policy.router.desks.map(\.name)
            if !Set(desks).isSubset(of: declared) {
                do {
                    try await Self.declare(desks: desks, amqp: amqp, logger: logger)
                    declared.formUnion(desks)
                    failures = 0
                } catch {
                    failures += 1
                    logger.warning("Cannot declare the desk queues; retrying", metadata: ["error": "\(error)"])
                }
            }
            let pause = failures > 0 ? Backoff.delay(attempt: failures, max: configuration.rulesRefresh) : configuration.rulesRefresh
            try? await gracefulSleep(pause)
        }
    }

    private enum Lookup {
        case success(ComplaintPolicyHolder.Current)
        case failure(version: Int, error: ComplaintConfigurationError)
    }

    private func lookForNewer(skipping skipped: Int?) async -> Lookup? {
        let inForce = holder.current.version
        do {
            let stored = try await pool.transaction { connection in try ComplaintRulesStore.newest(on: connection) }
            guard let stored, stored.version > inForce, stored.version != skipped else { return nil }
            do {
                return .success(try ComplaintPolicyHolder.compile(stored, configuration: configuration))
            } catch {
                return .failure(version: stored.version, error: error)
            }
        } catch {
            logger.warning("Cannot look for newer complaint rules", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Declares `desk.<name>` for each desk (and the rest of the service's topology) on a short-lived connection.
    public static func declare(desks: [String], amqp: AMQPSettings, logger: Logger) async throws {
        let publisher = AMQPPublisher(
            settings: amqp, name: "complaints-desks", topology: ComplaintsService.topology(desks: desks), logger: logger)
        do {
            try await publisher.connect()
        } catch {
            await publisher.close()
            throw error
        }
        await publisher.close()
    }
}
