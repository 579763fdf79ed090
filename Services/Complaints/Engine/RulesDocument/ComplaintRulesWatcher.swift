import CRMAMQP
import CRMPostgres
import CRMSupport
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Keeps the rules in force current, once every configured desk's queue exists.
///
/// Every `CRM_COMPLAINTS_RULES_REFRESH` it looks for a newer version in `complaint_rules`, compiles it, checks that
/// `desk.<name>` exists for each of its new desks (`crm rules load` declares them, as the operator: the service's
/// broker user may create nothing) and only then puts it in force, so a routed complaint always has a queue to land
/// in (the desks of the version in force at start-up are checked by the consumers when they connect). A version whose
/// desk queues are missing waits, retried with back-off. A version that does not compile (stored by hand, bypassing
/// `crm rules load`) is logged once and skipped; the last good one stays.
public struct ComplaintRulesWatcher: Service {
    private let holder: ComplaintPolicyHolder
    private let pool: PostgresPool
    private let amqp: AMQPSettings
    private let configuration: ComplaintsConfiguration
    private let logger: Logger
    private let versionGauge = Gauge(label: "crm_complaints_rules_version")

    public init(
        holder: ComplaintPolicyHolder,
        pool: PostgresPool,
        amqp: AMQPSettings,
        configuration: ComplaintsConfiguration,
        logger: Logger
    ) {
        self.holder = holder
        self.pool = pool
        self.amqp = amqp
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        // The consumers check the desks of the version in force at start-up before they take a message.
        var declared = Set(holder.current.policy.router.desks.map(\.name))
        var skipped: Int?
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            switch await lookForNewer(skipping: skipped) {
            case .success(let newer):
                // Queues first: a complaint is never routed to a desk whose queue does not exist yet.
                let desks = newer.policy.router.desks.map(\.name)
                do {
                    if !Set(desks).isSubset(of: declared) {
                        try await Self.verify(desks: desks, amqp: amqp, logger: logger)
                        declared.formUnion(desks)
                    }
                    holder.replace(with: newer)
                    failures = 0
                    logger.info("Complaint rules in force", metadata: ["rules.version": "\(newer.version)"])
                } catch {
                    failures += 1
                    logger.warning(
                        "The desk queues of new complaint rules are missing (crm rules load declares them); retrying",
                        metadata: ["rules.version": "\(newer.version)", "error": "\(error)"]
                    )
                }
            case .failure(let version, let error):
                skipped = version
                logger.error(
                    "Stored complaint rules do not compile; keeping the version in force",
                    metadata: ["rules.version": "\(version)", "error": "\(error)"]
                )
            case nil:
                break
            }
            versionGauge.record(holder.current.version)
            let pause =
                failures > 0
                ? Backoff.delay(attempt: failures, max: configuration.rulesRefresh) : configuration.rulesRefresh
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
            // The version alone first: the document is read only when it changed.
            let stored = try await pool.transaction { connection -> ComplaintRulesStore.StoredRules? in
                let newest = try connection.query("SELECT max(version) FROM complaint_rules")[0].decodeIfPresent(
                    0,
                    as: Int.self
                )
                guard let newest, newest > inForce, newest != skipped else { return nil }
                return try ComplaintRulesStore.stored(version: newest, on: connection)
            }
            guard let stored else { return nil }
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

    /// Checks that `desk.<name>` exists for each desk (and the rest of the service's topology) on a short-lived
    /// connection.
    public static func verify(desks: [String], amqp: AMQPSettings, logger: Logger) async throws {
        let publisher = AMQPPublisher(
            settings: amqp,
            name: "complaints-desks",
            topology: ComplaintsService.topology(desks: desks),
            topologyAction: .verify,
            logger: logger
        )
        do {
            try await publisher.connect()
        } catch {
            await publisher.close()
            throw error
        }
        await publisher.close()
    }
}
