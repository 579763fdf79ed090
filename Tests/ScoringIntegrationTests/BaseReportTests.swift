import CRMOutbox
import CRMRuntime
import Foundation
import Scoring
import TestSupport
import Testing

/// `crm report` against the real database: the CDNOW master rescored as of 1997-09-30 and then 1998-06-30, every
/// figure the file can give computed here from the file.
@Suite struct BaseReportTests {
    static func report(_ environment: TestEnvironment) throws -> [String: Any] {
        let run = try Shell.execute("crm", arguments: ["report", "--json"], environment: environment.serviceVariables)
        #expect(run.status == 0)
        return try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
    }

    @Test func theReportOfTheCDNOWMasterHasTheFiguresOfTheFile() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            let variables = environment.serviceVariables
            #expect(try Shell.execute("crm", arguments: ["report"], environment: variables).status == 1)
            _ = try await ScoringHarness.storeCDNOW("CDNOW_master.txt", pool: environment.pool)
            let truth = try CDNOWTruth()
            let rescoring = ScoringHarness.rescoring(environment.pool)
            _ = try await rescoring.run(asOf: try ScoringHarness.endOfDay("1997-09-30"))
            let first = try Self.report(environment)
            #expect(first["transitions"] is NSNull, "the first full rescoring has nothing to compare with")
            let tiersBefore = try #require(first["tiers"] as? [String: Int])
            let stagesBefore = try #require(first["stages"] as? [String: Int])
            _ = try await rescoring.run(asOf: try ScoringHarness.endOfDay("1998-06-30"))
            let report = try Self.report(environment)

            #expect(report["as_of"] as? String == "1998-06-30T23:59:59.999Z")
            #expect(report["customers"] as? Int == truth.customers.count)
            #expect(report["scored"] as? Int == truth.customers.count)
            #expect(report["repeat_customers"] as? Int == truth.repeatCustomers)
            let rate = Double(truth.repeatCustomers) / Double(truth.customers.count)
            #expect(abs((report["repeat_rate"] as? Double ?? 0) - rate) < 1e-12)

            let value = try #require(report["value"] as? [String: Any])
            let total = truth.customers.values.reduce(Decimal.zero) { $0 + $1.total }
            #expect(Decimal(string: value["historical_total"] as? String ?? "") == total)
            let concentration = truth.concentration
            #expect(abs((value["top_20_share"] as? Double ?? 0) - concentration.top20Share) < 1e-9)
            #expect(abs((value["gini"] as? Double ?? 0) - concentration.gini) < 1e-9)

            // Cohorts by month of first purchase, with every month's active customers, to the as-of month.
            let cohorts = try #require(report["cohorts"] as? [[String: Any]])
            let expected = truth.cohorts(through: "19980630")
            #expect(cohorts.map { $0["month"] as? String } == expected.keys.sorted())
            for cohort in cohorts {
                let month = cohort["month"] as? String ?? ""
                #expect(cohort["customers"] as? Int == expected[month]?.customers, "\(month)")
                #expect(cohort["active"] as? [Int] == expected[month]?.active, "\(month)")
            }

            // Stages, tiers and cells agree with the stored scores; the forecast is the scores' expectations.
            let stored = try await environment.pool.query(
                """
                SELECT (SELECT json_object_agg(lifecycle_stage, n) FROM (SELECT lifecycle_stage, count(*) AS n
                            FROM customer_scores GROUP BY 1) s)::text,
                       (SELECT json_object_agg(tier, n) FROM (SELECT tier, count(*) AS n
                            FROM customer_scores GROUP BY 1) t)::text,
                       (SELECT json_object_agg(grid, n) FROM (SELECT grid, count(*) AS n
                            FROM customer_scores GROUP BY 1) g)::text,
                       sum(expected_purchases_90d), sum(clv_predicted)::float8
                FROM customer_scores
                """
            )[0]
            func counts(_ index: Int) throws -> [String: Int] {
                try #require(
                    try JSONSerialization.jsonObject(with: Data((stored[index] ?? "{}").utf8)) as? [String: Int]
                )
            }
            #expect((report["stages"] as? [String: Int])?.filter { $0.value > 0 } == (try counts(0)))
            #expect(report["tiers"] as? [String: Int] == (try counts(1)))
            let grid = try #require(report["grid"] as? [String: [String: Any]])
            #expect(grid.count == 9)
            #expect(grid.mapValues { $0["customers"] as? Int ?? -1 }.filter { $0.value > 0 } == (try counts(2)))
            let forecast = try #require(report["forecast_90d"] as? [String: Any])
            #expect(abs((forecast["transactions"] as? Double ?? 0) - (try stored.decode(3, as: Double.self))) < 1e-6)
            #expect(Double(forecast["revenue"] as? String ?? "") ?? 0 > 0)
            let predicted = try stored.decode(4, as: Double.self)
            // Each stored score is rounded to 4 digits; the report sums the unrounded values.
            let rounding = 0.00005 * Double(truth.customers.count)
            #expect(abs((Double(value["predicted_total"] as? String ?? "") ?? 0) - predicted) < rounding)

            // Moves since the first rescoring: every customer was scored then, so no one is new; each matrix
            // reads the earlier counts along its rows and the current ones down its columns.
            let transitions = try #require(report["transitions"] as? [String: Any])
            #expect(transitions["previous_as_of"] as? String == "1997-09-30T23:59:59.999Z")
            let tierMoves = try #require(transitions["tiers"] as? [String: [String: Int]])
            let stageMoves = try #require(transitions["stages"] as? [String: [String: Int]])
            #expect(tierMoves["new"] == nil && stageMoves["new"] == nil)
            for (from, row) in tierMoves { #expect(row.values.reduce(0, +) == tiersBefore[from], "\(from)") }
            for (from, row) in stageMoves { #expect(row.values.reduce(0, +) == stagesBefore[from], "\(from)") }
            let tiers = try #require(report["tiers"] as? [String: Int])
            for (to, count) in tiers {
                #expect(tierMoves.values.reduce(0) { $0 + ($1[to] ?? 0) } == count, "\(to)")
            }
            let entered = tierMoves.filter { $0.key != "gold" }.values.reduce(0) { $0 + ($1["gold"] ?? 0) }
            let left = tierMoves["gold"].map { $0.filter { $0.key != "gold" }.values.reduce(0, +) } ?? 0
            #expect(transitions["gold_entered"] as? Int == entered && entered > 0)
            #expect(transitions["gold_left"] as? Int == left && left > 0)
            let entrants = try #require(transitions["gold_entrants"] as? [[String: Any]])
            #expect(entrants.count == min(entered, 20))
            let values = entrants.compactMap { Double($0["clv_predicted"] as? String ?? "") }
            #expect(values == values.sorted(by: >), "entrants come most valuable first")
            for entrant in entrants {
                #expect(entrant["tier"] as? String == "gold" && entrant["previous_tier"] as? String != "gold")
                let id = try #require(entrant["customer_id"] as? String)
                let row = try await environment.pool.query(
                    "SELECT tier, rescored_tier FROM customer_scores WHERE customer_id = $1",
                    [id]
                )
                #expect(row.first?[0] == "gold" && row.first?[1] == "gold")
            }

            // The human form: tables, and the cohort triangle in percentages.
            let human = try Shell.execute("crm", arguments: ["report"], environment: variables)
            #expect(human.status == 0)
            #expect(human.output.contains("Cohorts by month of first purchase"))
            let january = try #require(human.output.split(separator: "\n").first { $0.hasPrefix("  1997-01") })
            let januaryTruth = try #require(expected["1997-01"])
            let share = String(format: "%.0f%%", 100 * Double(januaryTruth.active[1]) / Double(januaryTruth.customers))
            #expect(january.contains("100%") && january.contains(share))
            #expect(human.output.contains("gold entered \(entered), gold left \(left)"))
        }
    }
}
