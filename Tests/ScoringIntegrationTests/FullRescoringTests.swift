import CRMContract
import CRMOutbox
import CRMPostgres
import CRMRuntime
import CRMSupport
import Foundation
import Scoring
import TestSupport
import Testing

/// Full rescoring against the real database, on the CDNOW data.
@Suite struct FullRescoringTests {
    /// The published estimates of the CDNOW sample as of 1997-09-30 (Fader, Hardie & Lee 2005), reproduced
    /// through the whole path: orders stored by intake's writer, aggregated by PostgreSQL, fitted in Swift.
    @Test func cdnowSampleAsOfCalibrationEndReproducesThePublishedEstimates() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            let stored = try await ScoringHarness.storeCDNOW("CDNOW_sample.txt", pool: environment.pool)
            #expect(stored == 6919)
            let rescoring = ScoringHarness.rescoring(environment.pool)
            let report = try await rescoring.run(asOf: try ScoringHarness.endOfDay("1997-09-30"))

            #expect(report.customers == 2357)
            #expect(report.written == 2357)
            let bgnbd = try #require(report.model.bgnbd?.parameters)
            #expect(abs(bgnbd.r - 0.243) < 0.0005)
            #expect(abs(bgnbd.alpha - 4.414) < 0.005)
            #expect(abs(bgnbd.a - 0.793) < 0.0005)
            #expect(abs(bgnbd.b - 2.426) < 0.005)
            let spend = try #require(report.model.gammaGamma)
            #expect(spend.customers == 946)
            #expect(abs(spend.parameters.p - 6.25) < 0.005)
            #expect(abs(spend.parameters.q - 3.74) < 0.005)
            #expect(abs(spend.parameters.v - 15.44) < 0.01)

            // Customer 1 of the published summary is the sample file's first customer.
            let first = try String(
                contentsOf: ScoringHarness.fixtures.appendingPathComponent("CDNOW_sample.txt"),
                encoding: .utf8
            )
            .split(whereSeparator: \.isNewline)[0].split(whereSeparator: \.isWhitespace)[0]
            let customer = try #require(try await ScoringHarness.customer(String(first), pool: environment.pool))
            let pAlive = try #require(customer["p_alive"] as? Double)
            #expect(abs(pAlive - 0.7266) < 0.00005)
            let summary = TransactionSummary(frequency: 2, recency: 213.0 / 7, age: 272.0 / 7)
            #expect(abs(bgnbd.conditionalExpectedPurchases(t: 39, for: summary) - 1.2259) < 0.0005)
            #expect(customer["orders_count"] as? Int == 3)
            #expect(customer["transactions"] as? Int == 3)

            // three_degree.contribution: the share of the base with a lower predicted value, counted here exactly and
            // read by the customer object from the model's quantiles (within their 0.1%).
            let exact = try await environment.pool.query(
                """
                SELECT s.customer_id,
                       (SELECT count(*) FROM customer_scores x WHERE x.clv_predicted < s.clv_predicted)::float8
                       / ((SELECT count(*) FROM customer_scores x WHERE x.clv_predicted IS NOT NULL) - 1)
                FROM customer_scores s WHERE s.clv_predicted IS NOT NULL ORDER BY s.customer_id
                """
            )
            #expect(exact.count == 2357)
            for row in stride(from: 0, to: exact.count, by: 97).map({ exact[$0] }) {
                let id = try row.decode(0, as: String.self)
                let share = try row.decode(1, as: Double.self)
                let object = try #require(try await ScoringHarness.customer(id, pool: environment.pool))
                let contribution = try #require((object["three_degree"] as? [String: Any])?["contribution"] as? Double)
                #expect(abs(contribution - share) < 0.0015, "\(id): \(contribution) against \(share)")
            }

            // Stored with the model; every customer scored once, first scorings recorded and announced.
            let counts = try await environment.pool.query(
                """
                SELECT (SELECT count(*) FROM customer_scores WHERE model_id = $1),
                       (SELECT count(*) FROM customer_score_history),
                       (SELECT count(*) FROM customer_scores WHERE tier = 'gold'),
                       (SELECT count(*) FROM customer_scores WHERE orders_count > 0)
                """,
                [report.model.modelID]
            )
            #expect(try counts[0].decode(0, as: Int.self) == 2357)
            #expect(try counts[0].decode(1, as: Int.self) == 2357)
            let gold = try counts[0].decode(2, as: Int.self)
            #expect(gold > 2357 / 10 && gold <= 2357 / 5 + 1)
            // A first score is announced only when it needs attention: decline or termination.
            let events = try await ScoringHarness.scoredEvents(pool: environment.pool)
            let lapsing = try await environment.pool.query(
                "SELECT count(*) FROM customer_scores WHERE lifecycle_stage IN ('decline', 'termination')"
            )
            #expect(events.count == (try lapsing[0].decode(0, as: Int.self)))
            #expect(events.count > 0)
            #expect(events.allSatisfy { $0.previousLifecycleStage == nil })
            #expect(events.allSatisfy { [.decline, .termination].contains($0.customer.lifecycleStage) })
        }
    }

    /// Orders after the as-of time do not count, same-day purchases are one transaction, and a refund lowers
    /// the value; margin is used where orders carry a cost.
    @Test func asOfSameDayRefundsAndMargin() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            try await ScoringHarness.store(
                [
                    ScoringHarness.order(
                        "O-1",
                        customer: "A",
                        at: "2026-01-05T09:00:00Z",
                        amount: "100.00",
                        cost: "60.00"
                    ),
                    ScoringHarness.order(
                        "O-2",
                        customer: "A",
                        at: "2026-01-05T18:00:00Z",
                        amount: "50.00",
                        cost: "30.00"
                    ),
                    ScoringHarness.order(
                        "O-3",
                        customer: "A",
                        at: "2026-02-05T10:00:00Z",
                        amount: "80.00",
                        cost: "40.00"
                    ),
                    ScoringHarness.order(
                        "R-3",
                        customer: "A",
                        at: "2026-02-06T10:00:00Z",
                        amount: "80.00",
                        cost: "40.00",
                        kind: "refund",
                        original: "O-3"
                    ),
                    ScoringHarness.order("O-4", customer: "A", at: "2026-05-01T10:00:00Z", amount: "999.00"),
                ],
                pool: environment.pool
            )
            let rescoring = ScoringHarness.rescoring(environment.pool)
            _ = try await rescoring.run(asOf: try ScoringHarness.endOfDay("2026-03-01"))
            let customer = try #require(try await ScoringHarness.customer("A", pool: environment.pool))
            #expect(customer["orders_count"] as? Int == 3)
            #expect(customer["transactions"] as? Int == 2)
            // Margin: (100-60) + (50-30) + (80-40) - (80-40) = 60.
            let clv = try #require(customer["clv"] as? [String: Any])
            #expect(clv["historical"] as? String == "60.0000")
            #expect(abs((customer["margin_rate"] as? Double ?? 0) - 60.0 / 150.0) < 1e-9)
            #expect(customer["last_order_at"] as? String == "2026-02-05T10:00:00.000Z")
            #expect(customer["recency_days"] as? Double == 24)
        }
    }

    /// Replaying the past after wall-clock scoring: today's "terminated" must not hold a customer who was
    /// active on the replayed date.
    @Test func aReplayIgnoresScoresFromAfterItsAsOfTime() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            _ = try await ScoringHarness.storeCDNOW("CDNOW_sample.txt", pool: environment.pool)
            let rescoring = ScoringHarness.rescoring(environment.pool)
            _ = try await rescoring.run()
            let today = try #require(try await ScoringHarness.customer("00004", pool: environment.pool))
            #expect(today["lifecycle_stage"] as? String == "termination")
            _ = try await rescoring.run(asOf: try ScoringHarness.endOfDay("1997-09-30"))
            let then = try #require(try await ScoringHarness.customer("00004", pool: environment.pool))
            #expect(then["lifecycle_stage"] as? String != "termination")
            #expect(abs((then["p_alive"] as? Double ?? 0) - 0.7266) < 0.00005)
        }
    }

    /// A run of the present rewrites only the scores that moved: the others keep their rows, and stand as of the run
    /// all the same (their time and recency are read against the latest full rescoring).
    @Test func theNextRunOfThePresentKeepsTheScoresThatDidNotMove() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            _ = try await ScoringHarness.storeCDNOW("CDNOW_sample.txt", pool: environment.pool)
            let rescoring = ScoringHarness.rescoring(environment.pool)
            let first = try await rescoring.run()
            #expect(first.written == 2357)
            #expect(first.kept == 0)
            // As if the first run had been three days ago.
            try await environment.pool.execute(
                "UPDATE customer_scores SET scored_at = scored_at - interval '3 days', recency_days = recency_days - 3"
            )
            try await environment.pool.execute("UPDATE scoring_models SET as_of = as_of - interval '3 days'")
            // One customer buys again meanwhile.
            try await ScoringHarness.store(
                [
                    ScoringHarness.order(
                        "O-NEW",
                        customer: "00004",
                        at: Timestamp(Date().addingTimeInterval(-86_400)).rfc3339,
                        amount: "25.00"
                    )
                ],
                pool: environment.pool
            )
            // And one whose tier an incremental scoring changed since: the tier the last full rescoring gave it (what
            // the base report's moves compare with) is not the one stored.
            try await environment.pool.execute(
                """
                UPDATE customer_scores SET rescored_tier = CASE WHEN tier = 'gold' THEN 'bronze' ELSE 'gold' END
                WHERE customer_id = '00018'
                """
            )
            let before = try await Self.storedScores(environment.pool)
            let second = try await rescoring.run()
            let after = try await Self.storedScores(environment.pool)
            #expect(second.written + second.kept == 2357)
            #expect(second.kept > 2357 / 2)
            #expect(second.written >= 1)
            #expect(after["00004"]?.scoredAt != before["00004"]?.scoredAt)
            #expect(after["00004"]?.digest != before["00004"]?.digest)
            #expect(after["00018"]?.scoredAt != before["00018"]?.scoredAt)
            let rescored = try await environment.pool.query(
                "SELECT rescored_tier = tier FROM customer_scores WHERE customer_id = '00018'"
            )
            #expect(try rescored.first?.decode(0, as: Bool.self) == true)
            let keptRows = after.filter { id, row in row.scoredAt == before[id]?.scoredAt }
            #expect(keptRows.count == second.kept)
            #expect(after.count - keptRows.count == second.written)
            // A kept row is the row as it stood: its figures, its digest.
            for (id, row) in keptRows { #expect(row == before[id]) }

            // A kept customer reads as of the second run, its recency counted to it.
            let (id, row) = try #require(keptRows.first { $0.value.lastOrderAt != nil })
            let customer = try #require(try await ScoringHarness.customer(id, pool: environment.pool))
            let scoredAt = try #require(customer["scored_at"] as? String)
            #expect(scoredAt == Timestamp(second.model.asOf).rfc3339)
            let days = (second.model.asOf.timeIntervalSince(try #require(row.lastOrderAt)) / 86_400).rounded(.down)
            #expect(customer["recency_days"] as? Double == days)
            #expect(row.recencyDays == days - 3)

            // A replay rewrites every score as of its time, kept or not.
            let replay = try await rescoring.run(asOf: try ScoringHarness.endOfDay("1998-06-30"))
            #expect(replay.written == 2357)
            #expect(replay.kept == 0)
        }
    }

    /// A run of the present that stages few of its customers merges them a chunk at a time, while the next chunk is
    /// scored; it stores, records and announces what one merge after the last chunk does. Two databases with the same
    /// orders and the same first run, rescored as of the same time: one merging along, one once at the end.
    @Test func mergingAChunkAtATimeStoresWhatOneMergeStores() async throws {
        try await TestServers.withEnvironment(migrate: true) { along in
            try await TestServers.withEnvironment(migrate: true) { once in
                let bought = Timestamp(Date().addingTimeInterval(-3_600)).rfc3339
                var runs: [FullRescoring] = []
                for (environment, mergesAlong) in [(along, true), (once, false)] {
                    _ = try await ScoringHarness.storeCDNOW("CDNOW_sample.txt", pool: environment.pool)
                    var rescoring = ScoringHarness.rescoring(environment.pool)
                    rescoring.writeChunk = 100
                    // Without probes of the few, the staged scores are merged once, by a hash, after the last chunk.
                    rescoring.probesFewScores = mergesAlong
                    runs.append(rescoring)
                }
                let first = Date()
                for (environment, rescoring) in zip([along, once], runs) {
                    _ = try await rescoring.run(asOf: first)
                    // As if that run had been a day ago, and one customer in forty bought again since.
                    try await environment.pool.execute(
                        "UPDATE customer_scores SET scored_at = scored_at - interval '1 day', recency_days = recency_days - 1"
                    )
                    try await environment.pool.execute("UPDATE scoring_models SET as_of = as_of - interval '1 day'")
                    let customers = try await environment.pool.query(
                        "SELECT customer_id FROM customers ORDER BY customer_id"
                    ).map { try $0.decode(0, as: String.self) }
                    let buyers = stride(from: 0, to: customers.count, by: 40).map { customers[$0] }
                    try await ScoringHarness.store(
                        buyers.map { ScoringHarness.order("O-NEW-\($0)", customer: $0, at: bought, amount: "25.00") },
                        pool: environment.pool
                    )
                }
                let second = Date()
                var reports: [FullRescoring.Report] = []
                var scores: [[String]] = []
                var history: [[String]] = []
                var outbox: [[String]] = []
                for (environment, rescoring) in zip([along, once], runs) {
                    reports.append(try await rescoring.run(asOf: second))
                    func rows(_ sql: String) async throws -> [String] {
                        try await environment.pool.query(sql).map { try $0.decode(0, as: String.self) }
                    }
                    // The model's figures to twelve places: under load, one run in several, the two databases' second
                    // runs gave some customers a P(alive) differing in its last bit (cause not found; each database
                    // returns its customers in an order of its own, which is the likeliest).
                    scores.append(
                        try await rows(
                            """
                            SELECT (to_jsonb(s) - 'updated_at' || jsonb_build_object(
                                'p_alive', round(p_alive::numeric, 12),
                                'expected_purchases_90d', round(expected_purchases_90d::numeric, 12)))::text
                            FROM customer_scores s ORDER BY customer_id
                            """
                        )
                    )
                    history.append(
                        try await rows(
                            """
                            SELECT (to_jsonb(h) - 'id' - 'recorded_at'
                                || jsonb_build_object('p_alive', round(p_alive::numeric, 12)))::text
                            FROM customer_score_history h ORDER BY customer_id, id
                            """
                        )
                    )
                    outbox.append(
                        try await rows(
                            "SELECT routing_key || ' ' || count(*) FROM crm_outbox GROUP BY routing_key ORDER BY 1"
                        )
                    )
                }
                // 2357 customers in chunks of 100, a few of them staged each: merged after nearly every chunk.
                #expect(reports[0].kept > 2357 * 3 / 4, "\(reports[0].written) written, \(reports[0].kept) kept")
                #expect(reports[0].written >= 2357 / 40)
                #expect((reports[0].model.statistics["merges"] ?? 0) > 10, "\(reports[0].written) written")
                #expect(reports[1].model.statistics["merges"] == 1)
                #expect(reports[0].written == reports[1].written)
                #expect(reports[0].kept == reports[1].kept)
                #expect(reports[0].events == reports[1].events)
                #expect(scores[0].count == 2357)
                let differing = zip(scores[0], scores[1]).filter { $0 != $1 }.map(\.0)
                #expect(differing.isEmpty, "\(differing.count) scores differ, e.g. \(differing.prefix(1))")
                #expect(history[0] == history[1])
                #expect(outbox[0] == outbox[1])
            }
        }
    }

    /// The full rescoring predicts a chunk of customers at once, taking the values its calibration ranked; an
    /// incremental scoring predicts one customer at a time from the stored model. Both give each customer the same
    /// figures.
    @Test func theRescoringsFiguresAreTheOnesEachCustomerGetsAlone() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            _ = try await ScoringHarness.storeCDNOW("CDNOW_sample.txt", pool: environment.pool)
            var rescoring = ScoringHarness.rescoring(environment.pool)
            rescoring.writeChunk = 500
            let report = try await rescoring.run()
            let figures = """
                SELECT customer_id, p_alive, expected_purchases_90d, clv_predicted::float8, tier, lifecycle_stage
                FROM customer_scores ORDER BY customer_id
                """
            func read() async throws -> [(String, Double?, Double?, Double?, String, String)] {
                try await environment.pool.query(figures).map { row in
                    (
                        try row.decode(0), try row.decodeIfPresent(1), try row.decodeIfPresent(2),
                        try row.decodeIfPresent(3), try row.decode(4), try row.decode(5)
                    )
                }
            }
            let batched = try await read()
            #expect(batched.count == 2357)
            #expect(batched.filter { ($0.3 ?? 0) > 0 }.count > 2357 / 2)
            let alone = IncrementalScoring(
                pool: environment.pool,
                outbox: Outbox(of: .scoring),
                settings: ScoringConfiguration(),
                logger: TestServers.logger
            )
            try await alone.rescore(customers: batched.map(\.0), asOf: report.model.asOf)
            let single = try await read()
            var differing: [String] = []
            for (a, b) in zip(batched, single) {
                func close(_ x: Double?, _ y: Double?, _ tolerance: Double) -> Bool {
                    guard let x, let y else { return x == nil && y == nil }
                    return abs(x - y) <= tolerance * max(1, abs(x))
                }
                if a.0 != b.0 || !close(a.1, b.1, 1e-12) || !close(a.2, b.2, 1e-12) || !close(a.3, b.3, 0.0001)
                    || a.4 != b.4 || a.5 != b.5
                {
                    differing.append("\(a) against \(b)")
                }
            }
            #expect(differing.isEmpty, "\(differing.count) customers differ, e.g. \(differing.prefix(2))")
        }
    }

    /// What a stored score holds that a kept row must keep.
    struct StoredScore: Equatable {
        var scoredAt: Date
        var lastOrderAt: Date?
        var recencyDays: Double?
        var pAlive: Double?
        var predicted: Double?
        var digest: Int64?
    }

    static func storedScores(_ pool: PostgresPool) async throws -> [String: StoredScore] {
        var scores: [String: StoredScore] = [:]
        for row in try await pool.query(
            """
            SELECT customer_id, scored_at, last_order_at, recency_days, p_alive, clv_predicted::float8,
                   figures_digest
            FROM customer_scores
            """
        ) {
            scores[try row.decode(0)] = StoredScore(
                scoredAt: try row.decode(1),
                lastOrderAt: try row.decodeIfPresent(2),
                recencyDays: try row.decodeIfPresent(3),
                pAlive: try row.decodeIfPresent(4),
                predicted: try row.decodeIfPresent(5),
                digest: try row.decodeIfPresent(6)
            )
        }
        return scores
    }
}
