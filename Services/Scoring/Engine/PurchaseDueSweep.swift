import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation
import Logging
import ServiceLifecycle

/// Finds repeat customers whose expected next purchase has come and announces it (`lifecycle.purchase_due`), every
/// `CRM_SCORING_PURCHASE_DUE_INTERVAL` (default 5m): what passes with time, without an order to rescore anyone.
///
/// Each sweep settles the due customers in transactions of ``batchSize``, skipping rows another replica holds; see
/// ``LifecycleAnnouncements/announcePurchasesDue(now:limit:playbook:outbox:on:)`` for who is due.
public struct PurchaseDueSweep: Service {
    private let pool: PostgresPool
    private let outbox: Outbox
    private let playbook: LifecyclePlaybookSource
    private let interval: Duration
    private let logger: Logger

    /// The most customers one sweep transaction settles.
    static let batchSize = 1000

    public init(
        pool: PostgresPool,
        outbox: Outbox,
        playbook: LifecyclePlaybookSource,
        interval: Duration,
        logger: Logger
    ) {
        self.pool = pool
        self.outbox = outbox
        self.playbook = playbook
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let settled = try await sweepOnce()
                if settled > 0 { logger.info("Purchases due announced", metadata: ["customers": "\(settled)"]) }
            } catch {
                logger.warning("Purchase-due sweep failed", metadata: ["error": "\(error)"])
            }
            try? await gracefulSleep(interval)
        }
    }

    /// One sweep as of `now`: settles every customer due; returns their number.
    @discardableResult
    public func sweepOnce(now: Date = Date()) async throws -> Int {
        var total = 0
        while true {
            let playbook = playbook.current
            let outbox = outbox
            let settled = try await pool.transaction { connection in
                try LifecycleAnnouncements.announcePurchasesDue(
                    now: now,
                    limit: Self.batchSize,
                    playbook: playbook,
                    outbox: outbox,
                    on: connection
                )
            }
            total += settled
            if settled < Self.batchSize || Task.isShuttingDownGracefully { return total }
        }
    }
}
