import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMRuntime
import CRMSupport
import Foundation
import Intake
import Scoring
import TestSupport
import Testing

/// `customer-lifecycle.v1` on `crm.lifecycle`: one event per stage change, purchases due once, nothing for opt-out
/// customers and nothing from a replay.
@Suite("Lifecycle events")
struct LifecycleEventsTests {
    static let start = try! Timestamp(rfc3339: "2025-01-01T12:00:00Z").date

    static func day(_ offset: Double) -> Date { start.addingTimeInterval(offset * 86_400) }

    /// Maturity without a fitted model: every customer is bronze, so bronze must be enough.
    static var settings: ScoringConfiguration {
        var settings = ScoringConfiguration()
        settings.lifecycle.maturityMinimumTier = .bronze
        return settings
    }

    /// The lifecycle events in scoring's outbox, oldest first.
    static func events(_ pool: PostgresPool) async throws -> [(key: String, event: CustomerLifecycleEvent)] {
        let rows = try await pool.query(
            "SELECT routing_key, body FROM crm_outbox WHERE exchange = 'crm.lifecycle' ORDER BY id"
        )
        return try rows.map { row in
            (try row.decode(0), try CustomerLifecycleEvent.decode(body: Data(try row.decode(1, as: String.self).utf8)))
        }
    }

    static func register(_ id: String, at date: Date, pool: PostgresPool) async throws {
        let handler = CustomerIntakeHandler(pool: pool, outbox: Outbox(of: .intake))
        let body = #"{"schema":"customer.v1","customer_id":"\#(id)","registered_at":"\#(Timestamp(date).rfc3339)"}"#
        #expect(try await handler.handle([InboundMessage(body: Data(body.utf8))]) == [.processed])
    }

    /// A monthly buyer for 13 months, silent, lost, and back: potential → development → growth → maturity → decline
    /// → termination → recovery, each change announced once with the right stages; scoring again announces nothing.
    @Test func eachStageChangeOfAScriptedHistoryIsAnnouncedOnce() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            let pool = environment.pool
            let scoring = IncrementalScoring(
                pool: pool,
                outbox: Outbox(of: .scoring),
                settings: Self.settings,
                logger: TestServers.logger
            )
            for id in ["J-1", "J-OPT"] {
                try await Self.register(id, at: Self.day(-10), pool: pool)
                let orders = stride(from: 0.0, through: 390, by: 30).map { offset in
                    ScoringHarness.order(
                        "\(id)-\(Int(offset))",
                        customer: id,
                        at: Timestamp(Self.day(offset)).rfc3339,
                        amount: "100.00"
                    )
                }
                try await ScoringHarness.store(orders, pool: pool)
            }
            try await pool.execute("INSERT INTO customer_flags (customer_id, flag) VALUES ('J-OPT', 'opt_out')")
            let script: [(asOf: Double, stage: LifecycleStage)] = [
                (-5, .potential), (1, .development), (31, .growth), (361, .maturity), (460, .decline),
                (520, .termination), (531, .recovery),
            ]
            var previous: LifecycleStage?
            for (index, step) in script.enumerated() {
                if step.stage == .recovery {
                    for id in ["J-1", "J-OPT"] {
                        try await ScoringHarness.store(
                            [
                                ScoringHarness.order(
                                    "\(id)-back",
                                    customer: id,
                                    at: Timestamp(Self.day(530)).rfc3339,
                                    amount: "100.00"
                                )
                            ],
                            pool: pool
                        )
                    }
                }
                // Twice: the second scoring finds nothing new to announce.
                for _ in 0..<2 { try await scoring.rescore(customers: ["J-1", "J-OPT"], asOf: Self.day(step.asOf)) }
                let events = try await Self.events(pool)
                #expect(events.count == index + 1, "after \(step.stage)")
                let last = try #require(events.last)
                #expect(last.key == "lifecycle.\(step.stage.rawValue)")
                #expect(last.event.event == .stageChanged)
                #expect(last.event.customerID.rawValue == "J-1")
                #expect(last.event.stage == step.stage)
                #expect(last.event.previousStage == previous)
                #expect(last.event.changedAt.date == Self.day(step.asOf))
                #expect(
                    last.event.suggestedAction == LifecyclePlaybook.builtIn.action(stage: step.stage, tier: .bronze)
                )
                #expect(last.event.rule?.hasPrefix(step.stage.rawValue + ".") == true)
                previous = step.stage
            }
            // The opt-out customer went through the same stages without a word on crm.lifecycle.
            let optedOut = try await pool.query(
                "SELECT lifecycle_stage, announced_stage FROM customer_scores WHERE customer_id = 'J-OPT'"
            )
            #expect(optedOut.first.map { [$0[0], $0[1]] } == ["recovery", "recovery"])
            #expect(try await Self.events(pool).allSatisfy { $0.event.customerID.rawValue == "J-1" })
        }
    }

    /// A rescoring as of a past time replays history: scores and stages move back, crm.lifecycle hears nothing, and
    /// what marketing tools were told stays the reference for the present.
    @Test func aReplayAnnouncesNothing() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            let pool = environment.pool
            let now = Date()
            let orders = stride(from: 400.0, through: 40, by: -30).map { daysAgo in
                ScoringHarness.order(
                    "R-\(Int(daysAgo))",
                    customer: "R-1",
                    at: Timestamp(now.addingTimeInterval(-daysAgo * 86_400)).rfc3339,
                    amount: "50.00"
                )
            }
            try await ScoringHarness.store(orders, pool: pool)
            let scoring = IncrementalScoring(
                pool: pool,
                outbox: Outbox(of: .scoring),
                settings: Self.settings,
                logger: TestServers.logger
            )
            try await scoring.rescore(customers: ["R-1"])
            let present = try await Self.events(pool)
            #expect(present.map(\.event.stage) == [.maturity])

            let rescoring = FullRescoring(
                pool: pool,
                outbox: Outbox(of: .scoring),
                settings: Self.settings,
                logger: TestServers.logger
            )
            #expect(FullRescoring.isReplay(asOf: now.addingTimeInterval(-200 * 86_400), started: now))
            #expect(!FullRescoring.isReplay(asOf: now, started: now))
            // As of 385 days ago only the first purchase (400 days ago) had happened: development.
            _ = try await rescoring.run(asOf: now.addingTimeInterval(-385 * 86_400))
            let replayed = try await pool.query(
                "SELECT lifecycle_stage, announced_stage FROM customer_scores WHERE customer_id = 'R-1'"
            )
            #expect(replayed.first.map { [$0[0], $0[1]] } == ["development", "maturity"])
            #expect(try await Self.events(pool).count == 1)

            // Back in the present: the stage is what marketing tools already know, so nothing is announced.
            _ = try await rescoring.run()
            #expect(try await Self.events(pool).count == 1)
        }
    }

    /// A repeat customer whose expected next purchase passed is announced once by the sweep; one flagged opt_out is
    /// not, and one whose expected purchase lies in the future waits.
    @Test func aPurchaseDueIsAnnouncedOnce() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            let pool = environment.pool
            let now = Date()
            func orders(_ customer: String, daysAgo: [Double]) -> [Data] {
                daysAgo.map { ago in
                    ScoringHarness.order(
                        "\(customer)-\(Int(ago))",
                        customer: customer,
                        at: Timestamp(now.addingTimeInterval(-ago * 86_400)).rfc3339,
                        amount: "20.00"
                    )
                }
            }
            // Every 12 days, the last 16 days ago: due 4 days ago.
            try await ScoringHarness.store(orders("D-1", daysAgo: [40, 28, 16]), pool: pool)
            try await ScoringHarness.store(orders("D-OPT", daysAgo: [40, 28, 16]), pool: pool)
            // Every 12 days, the last 6 days ago: due in 6 days.
            try await ScoringHarness.store(orders("D-LATER", daysAgo: [30, 18, 6]), pool: pool)
            try await pool.execute("INSERT INTO customer_flags (customer_id, flag) VALUES ('D-OPT', 'opt_out')")
            let scoring = IncrementalScoring(
                pool: pool,
                outbox: Outbox(of: .scoring),
                settings: Self.settings,
                logger: TestServers.logger
            )
            try await scoring.rescore(customers: ["D-1", "D-OPT", "D-LATER"])
            try await pool.execute("DELETE FROM crm_outbox")
            let sweep = PurchaseDueSweep(
                pool: pool,
                outbox: Outbox(of: .scoring),
                playbook: LifecyclePlaybookSource(logger: TestServers.logger),
                interval: .seconds(60),
                logger: TestServers.logger
            )
            #expect(try await sweep.sweepOnce(now: now) == 2)
            #expect(try await sweep.sweepOnce(now: now) == 0)
            let events = try await Self.events(pool)
            #expect(events.count == 1)
            let due = try #require(events.first)
            #expect(due.key == "lifecycle.purchase_due")
            #expect(due.event.event == .purchaseDue)
            #expect(due.event.customerID.rawValue == "D-1")
            #expect(due.event.suggestedAction == "repeat_purchase_reminder")
            let expected = try #require(due.event.expectedAt).date
            let lastOrder = now.addingTimeInterval(-16 * 86_400)
            #expect(abs(expected.timeIntervalSince(lastOrder.addingTimeInterval(12 * 86_400))) < 86_400)

            // Once D-LATER's expected purchase passes, it is announced in turn; D-1 stays announced.
            #expect(try await sweep.sweepOnce(now: now.addingTimeInterval(7 * 86_400)) == 1)
            #expect(try await Self.events(pool).map(\.event.customerID.rawValue) == ["D-1", "D-LATER"])
        }
    }
}
