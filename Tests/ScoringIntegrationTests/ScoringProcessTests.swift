import CRMSupport
import Foundation
import Scoring
import TestSupport
import Testing

/// The operator's commands and crm-scoring's HTTP read API, as built executables against the real servers.
@Suite struct ScoringProcessTests {
    @Test func rescoreCustomerModelAndTheHTTPCustomerObjectAgree() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            _ = try await ScoringHarness.storeCDNOW("CDNOW_sample.txt", pool: environment.pool)
            let variables = environment.serviceVariables

            let rescore = try Shell.execute(
                "crm",
                arguments: ["rescore", "--as-of", "1997-09-30", "--json"],
                environment: variables
            )
            #expect(rescore.status == 0)
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(rescore.output.utf8)) as? [String: Any]
            )
            #expect(report["customers"] as? Int == 2357)
            #expect(report["as_of"] as? String == "1997-09-30T23:59:59.999Z")

            let model = try Shell.execute("crm", arguments: ["model", "--json"], environment: variables)
            let fitted = try #require(try JSONSerialization.jsonObject(with: Data(model.output.utf8)) as? [String: Any])
            let bgnbd = try #require(fitted["bgnbd"] as? [String: Any])
            let spend = try #require(fitted["gamma_gamma"] as? [String: Any])
            #expect(abs((bgnbd["r"] as? Double ?? 0) - 0.243) < 0.0005)
            #expect(abs((spend["v"] as? Double ?? 0) - 15.44) < 0.01)
            #expect(fitted["time_unit"] as? String == "week")
            #expect(fitted["customers"] as? Int == 2357)
            for key in ["as_of", "fitted_at"] { #expect(fitted[key] is String) }

            let shown = try Shell.execute("crm", arguments: ["customer", "00004", "--json"], environment: variables)
            #expect(shown.status == 0)
            let customer = try #require(
                try JSONSerialization.jsonObject(with: Data(shown.output.utf8)) as? [String: Any]
            )
            for key in [
                "customer_id", "orders_count", "monetary_total", "first_order_at", "last_order_at", "recency_days",
                "rfm",
                "clv", "p_alive", "expected_purchases_90d", "lifecycle_stage", "tier", "grid", "open_alerts",
                "open_complaints", "scored_at",
            ] {
                #expect(customer.keys.contains(key), "crm customer --json lacks \(key)")
            }
            let rfm = try #require(customer["rfm"] as? [String: Any])
            for key in ["r", "f", "m"] { #expect((1...5).contains(rfm[key] as? Int ?? 0)) }
            #expect(
                Set((customer["clv"] as? [String: Any])?.keys.map { $0 } ?? []) == [
                    "historical", "simple", "predicted",
                ]
            )

            let missing = try Shell.execute("crm", arguments: ["customer", "nobody"], environment: variables)
            #expect(missing.status == 1)

            // The service serves the same object.
            let port = TestPorts.unused()
            var serviceVariables = variables
            serviceVariables["CRM_HTTP_PORT"] = "\(port)"
            let service = try Shell.launch("crm-scoring", environment: serviceVariables)
            defer { if service.isRunning { service.terminate() } }
            var answer = (status: 0, body: "")
            for _ in 0..<100 where answer.status != 200 {
                try await Task.sleep(for: .milliseconds(100))
                answer = Shell.get("http://127.0.0.1:\(port)/customers/00004")
            }
            #expect(answer.status == 200)
            let served = try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
            #expect(NSDictionary(dictionary: served).isEqual(to: customer))
            #expect(Shell.get("http://127.0.0.1:\(port)/customers/nobody").status == 404)
            kill(service.processIdentifier, SIGTERM)
            for _ in 0..<100 where service.isRunning { try await Task.sleep(for: .milliseconds(100)) }
            #expect(service.terminationStatus == 0)
        }
    }
}
