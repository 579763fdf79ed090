import CRMAMQP
import CRMSupport
import Foundation
import Logging
import ServiceLifecycle

/// Runs a full rescoring when the newest model is older than the interval, or when there is none yet.
///
/// Every replica checks; the advisory lock lets one of them run and the others find a fresh model next time.
public struct RescoreSchedule: Service {
    let rescoring: FullRescoring
    let interval: Duration
    let checkEvery: Duration
    let logger: Logger

    /// A schedule of full rescorings every `interval` (`CRM_SCORING_RESCORE_INTERVAL`, default 24h), checked
    /// every `checkEvery` (default a minute, never more than the interval).
    public init(rescoring: FullRescoring, interval: Duration, checkEvery: Duration = .seconds(60), logger: Logger) {
        self.rescoring = rescoring
        self.interval = interval
        self.checkEvery = min(checkEvery, interval)
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                if try await isDue() {
                    _ = try await MessageTracing.withSpan("crm-scoring full rescoring") { try await rescoring.run() }
                }
            } catch let error as ScoringError where error.code == .rescoringInProgress {
                logger.debug("full rescoring skipped: another replica runs it")
            } catch is CancellationError {
                return
            } catch {
                logger.error("scheduled full rescoring failed", metadata: ["error": "\(error)"])
            }
            do {
                try await ScoringGauges(pool: rescoring.pool).refresh()
            } catch {
                logger.warning("scoring gauges not refreshed", metadata: ["error": "\(error)"])
            }
            do {
                try await gracefulSleep(checkEvery)
            } catch {
                return
            }
        }
    }

    /// Whether the newest model was fitted longer than the interval ago. A replay with `--as-of` counts as fresh,
    /// so the schedule does not overwrite it at once with wall-clock scores.
    func isDue() async throws -> Bool {
        let rows = try await rescoring.pool.query("SELECT max(fitted_at) FROM scoring_models")
        guard let last = try rows.first?.decodeIfPresent(0, as: Date.self) else { return true }
        return Date().timeIntervalSince(last) >= interval.seconds
    }
}
