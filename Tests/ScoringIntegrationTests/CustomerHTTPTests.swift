import Foundation
import Scoring
import Synchronization
import TestSupport
import TestText
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
import CRMOutbox
import CRMRuntime
#endif

/// `GET /customers` of the running `crm-scoring` executable: keyset pages, CSV streaming, parameter errors.
@Suite struct CustomerHTTPTests {
    static func get(_ url: String, accept: String? = nil) async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: try #require(URL(string: url)))
        if let accept { request.setValue(accept, forHTTPHeaderField: "Accept") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// Every page of `query` from the first, following `next`; the customer ids in order.
    static func pages(_ base: String, _ query: String) async throws -> [String] {
        var ids: [String] = []
        var next: String?
        repeat {
            var url = "\(base)/customers?\(query)"
            if let next { url += "&after=\(next)" }
            let (status, body) = try await get(url)
            #expect(status == 200)
            let page = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            let customers = try #require(page["customers"] as? [[String: Any]])
            ids += customers.compactMap { $0["customer_id"] as? String }
            next = page["next"] as? String
        } while next != nil
        return ids
    }

    @Test func pagesGiveEveryCustomerOnceWhileAFullRescoringRuns() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            _ = try await ScoringHarness.storeCDNOW("CDNOW_sample.txt", pool: environment.pool)
            let rescoring = ScoringHarness.rescoring(environment.pool)
            _ = try await rescoring.run(asOf: try ScoringHarness.endOfDay("1997-09-30"))
            let everyone = try await environment.pool.query(
                #"SELECT customer_id FROM customer_scores ORDER BY customer_id COLLATE "C""#
            ).compactMap { $0[0] }
            #expect(everyone.count == 2357)

            // What `crm migrate` declares in a deployment: the service only checks its topology exists.
            try await environment.declare(ScoringService.topology)
            let port = TestPorts.unused()
            var variables = environment.serviceVariables
            variables["CRM_HTTP_PORT"] = "\(port)"
            let service = try Shell.launch("crm-scoring", environment: variables)
            defer { if service.isRunning { service.terminate() } }
            let base = "http://127.0.0.1:\(port)"
            #expect(try await eventually { (try? await Self.get(base + "/health/ready"))?.status == 200 })

            // Page through the whole base again and again while a full rescoring rewrites every score.
            final class Running: Sendable {
                let value = Mutex(true)
            }
            let running = Running()
            let passes = try await withThrowingTaskGroup(of: [[String]].self) { group in
                group.addTask {
                    _ = try await rescoring.run(asOf: try ScoringHarness.endOfDay("1998-06-30"))
                    running.value.withLock { $0 = false }
                    return []
                }
                group.addTask {
                    var passes: [[String]] = []
                    repeat {
                        passes.append(try await Self.pages(base, "limit=40"))
                    } while running.value.withLock({ $0 })
                    passes.append(try await Self.pages(base, "limit=40"))
                    return passes
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(passes.count >= 2)
            for pass in passes { #expect(pass == everyone, "a pass of \(pass.count) pages") }

            // Filters and sorts page exactly like the export; ties (many customers on one day) and all.
            for query in [
                "tier=gold&stage=decline&limit=100", "sort=last_order_at:desc&limit=37", "sort=p_alive&limit=500",
            ] {
                var parameters = query.split(separator: "&").map { pair in
                    let parts = pair.split(separator: "=").map(String.init)
                    return (name: parts[0], value: parts[1])
                }
                parameters.removeAll { $0.name == "limit" }
                let exported = try await CustomerExportTests.objects(
                    try CustomerQuery(parameters: parameters, pageLimit: nil),
                    environment
                ).compactMap { $0["customer_id"] as? String }
                #expect(try await Self.pages(base, query) == exported, "\(query)")
            }

            // The whole selection as CSV, streamed: the same bytes as the command line's export.
            let csv = try await Self.get(base + "/customers?tier=gold&sort=clv.predicted:desc", accept: "text/csv")
            #expect(csv.status == 200)
            let command = try Shell.execute(
                "crm",
                arguments: ["customers", "--tier", "gold", "--sort", "clv.predicted:desc", "--format", "csv"],
                environment: variables
            )
            #expect(String(decoding: csv.body, as: UTF8.self) == command.output)
            let gold = try await environment.pool.query("SELECT count(*) FROM customer_scores WHERE tier = 'gold'")
            #expect(CSVReader.parse(command.output).count == 1 + (try gold[0].decode(0, as: Int.self)))

            // Parameters that cannot be used: 400 naming them.
            for (query, parameter) in [
                ("min_orders=-1", "min_orders"), ("tier=platinum", "tier"), ("limit=1001", "limit"),
                ("after=garbage!", "after"), ("colour=red", "colour"), ("tier=gold&tier=silver", "tier"),
                ("last_order_before=yesterday", "last_order_before"), ("min_clv=9&max_clv=1", "min_clv"),
            ] {
                let (status, body) = try await Self.get(base + "/customers?" + query)
                #expect(status == 400, "\(query)")
                let error = try JSONSerialization.jsonObject(with: body) as? [String: Any]
                #expect(error?["parameter"] as? String == parameter, "\(query)")
                #expect((error?["error"] as? String)?.hasPrefix(parameter + ":") == true, "\(query)")
            }
            let known = try await Self.get(base + "/customers/00004")
            #expect(known.status == 200)
            let report = try await Self.get(base + "/report")
            #expect(report.status == 200)
            #expect(
                (try JSONSerialization.jsonObject(with: report.body) as? [String: Any])?["customers"] as? Int == 2357
            )
            kill(service.processIdentifier, SIGTERM)
        }
    }
}
