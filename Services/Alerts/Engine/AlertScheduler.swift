import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation
import Logging
import ServiceLifecycle

/// The service's clock: every tick it rereads an edited playbook, releases held alerts that now fit, sweeps when
/// a sweep is due (one replica at a time), judges the observed outcomes as of a new full rescoring (one replica, once
/// per rescoring) and refreshes the gauges of held alerts, retention rates, outcomes and uplift.
///
/// A failing step is logged and tried again at the next tick; it never stops the service.
struct AlertScheduler: Service {
    let configuration: AlertsConfiguration
    let pool: PostgresPool
    let playbook: PlaybookSource
    let sweep: AlertSweep
    let release: HeldAlertRelease
    let outcomes: OutcomeSchedule
    let logger: Logger
    private let metrics = AlertsMetrics()

    init(
        configuration: AlertsConfiguration,
        pool: PostgresPool,
        outbox: Outbox,
        playbook: PlaybookSource,
        sweep: AlertSweep,
        outcomes: OutcomeSchedule,
        logger: Logger
    ) {
        self.outcomes = outcomes
        self.configuration = configuration
        self.pool = pool
        self.playbook = playbook
        self.sweep = sweep
        self.release = HeldAlertRelease(configuration: configuration, outbox: outbox)
        self.logger = logger
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await tick()
            try? await gracefulSleep(configuration.tickInterval)
        }
    }

    /// One round of the schedule.
    func tick() async {
        playbook.reloadIfChanged()
        await step("release held alerts") { try await releaseHeld() }
        await step("sweep") {
            guard let report = try await sweep.runIfDue(interval: configuration.sweepInterval) else { return }
            metrics.record(report.tally, source: "sweep")
            metrics.sweep(seconds: report.seconds)
            logger.info(
                "Sweep finished",
                metadata: [
                    "sweep.customers": "\(report.customers)", "sweep.alerts": "\(report.tally.alerts)",
                    "sweep.seconds": "\(String(format: "%.2f", report.seconds))",
                ]
            )
        }
        await step("judge observed outcomes") {
            guard let report = try await outcomes.runIfDue() else { return }
            metrics.outcomeUpdate(seconds: report.seconds)
            logger.info(
                "Observed outcomes judged as of a full rescoring",
                metadata: [
                    "model.id": "\(report.modelID)", "outcomes.as_of": "\(Timestamp(report.asOf).rfc3339)",
                    "outcomes.changed": "\(report.alerts)",
                    "outcomes.seconds": "\(String(format: "%.2f", report.seconds))",
                ]
            )
        }
        await step("refresh retention gauges") {
            metrics.retention(try await AlertsReport.load(pool: pool))
            metrics.outcomes(try await RetentionReport.load(pool: pool))
        }
    }

    /// Releases held alerts that fit today and updates the held gauge.
    func releaseHeld() async throws {
        var held = try await HeldAlertRelease.heldCounts(pool: pool)
        if held.values.contains(where: { $0 > 0 }) {
            let release = release
            let waiting = held
            let released = try await pool.transaction { connection in
                try release.release(waiting, now: Date(), on: connection)
            }
            if released.values.contains(where: { $0 > 0 }) {
                metrics.released(released)
                held.merge(released) { $0 - $1 }
            }
        }
        metrics.held(held)
    }

    private func step(_ name: String, _ body: () async throws -> Void) async {
        do {
            try await body()
        } catch {
            logger.warning(
                "Scheduled step failed; retrying at the next tick",
                metadata: ["step": "\(name)", "error": "\(error)"]
            )
        }
    }
}
