import CRMContract
import CRMOutbox
import CRMRuntime
import Foundation
import Scoring
import Synchronization
import TestSupport
import TestText
import Testing

/// `crm customers` and the exports behind it against the real database: the CDNOW master rescored as of
/// 1998-06-30 and exported, customer by customer against the file; every filter against the unfiltered export
/// filtered here; CSV quoting of hard text.
@Suite struct CustomerExportTests {
    /// Collects what an export writes.
    final class Collected: Sendable {
        private let bytes = Mutex<[UInt8]>([])
        @Sendable func append(_ more: [UInt8]) { bytes.withLock { $0 += more } }
        var text: String { bytes.withLock { String(decoding: $0, as: UTF8.self) } }
    }

    /// The objects `query` selects, through the library export as JSON lines.
    static func objects(_ query: CustomerQuery, _ environment: TestEnvironment) async throws -> [[String: Any]] {
        let collected = Collected()
        let connection = environment.connection(name: "export")
        let count = try await CustomerList.export(query, format: .jsonl, connection: connection, sink: collected.append)
        await connection.close()
        let lines = collected.text.split(separator: "\n")
        #expect(lines.count == count)
        return try lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    static func decimal(_ value: Any?) -> Decimal? { (value as? String).flatMap { Decimal(string: $0) } }

    /// The CDNOW master, some customers with regions and types (two with hard text), and flags.
    static func prepare(_ environment: TestEnvironment) async throws {
        #expect(try await ScoringHarness.storeCDNOW("CDNOW_master.txt", pool: environment.pool) == 69_659)
        let extras: [(id: String, customer: String)] = [
            ("R-1", #"{"region":"east","type":"final"}"#), ("R-2", #"{"region":"east","type":"intermediate"}"#),
            ("R-3", #"{"region":"west","type":"intermediate"}"#),
            ("李, \"雷\"", #"{"region":"东部, \"north\"","type":"final"}"#),
        ]
        var bodies: [Data] = []
        for (index, extra) in extras.enumerated() {
            let order = ScoringHarness.order(
                "X-\(index)",
                customer: extra.id.replacingOccurrences(of: "\"", with: "\\\""),
                at: "1998-0\(index + 2)-10T09:30:00Z",
                amount: "\(20 + index).50"
            )
            var text = String(decoding: order, as: UTF8.self)
            text.removeLast()
            bodies.append(Data((text + #","customer":"# + extra.customer + "}").utf8))
        }
        #expect(try await ScoringHarness.store(bodies, pool: environment.pool) == extras.count)
        // A region from another source, with a line break, straight into the table.
        try await environment.pool.execute(
            "UPDATE customers SET region = $1 WHERE customer_id = 'R-3'",
            ["west,\nsecond \"line\""]
        )
        for (id, flag) in [("00001", CustomerFlag.fraud), ("00002", .optOut), ("00002", .fraud), ("R-1", .badDebt)] {
            #expect(
                try await CustomerFlags.flag(flag, customerID: id, note: "test", pool: environment.pool) == .flagged
            )
        }
        let rescoring = ScoringHarness.rescoring(environment.pool)
        _ = try await rescoring.run(asOf: try ScoringHarness.endOfDay("1998-06-30"))
    }

    @Test func theCDNOWMasterExportsCustomerByCustomerAsTheFileSays() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            try await Self.prepare(environment)
            let truth = try CDNOWTruth()
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("crm-export-\(UUID()).csv")
            defer { try? FileManager.default.removeItem(at: file) }
            let run = try Shell.execute(
                "crm",
                arguments: ["customers", "--format", "csv", "--output", file.path],
                environment: environment.serviceVariables
            )
            #expect(run.status == 0)
            let rows = CSVReader.parse(try String(contentsOf: file, encoding: .utf8))
            let header = try #require(rows.first)
            #expect(header.first == "customer_id" && header.contains("rfm.segment") && header.contains("clv.predicted"))
            let records = rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
            #expect(records.count == truth.customers.count + 4)
            #expect(Set(records.compactMap { $0["customer_id"] }).count == records.count, "a customer twice")
            var compared = 0
            for record in records {
                guard let id = record["customer_id"], let expected = truth.customers[id] else { continue }
                compared += 1
                #expect(record["orders_count"] == String(expected.orders), "\(id) orders")
                #expect(record["transactions"] == String(expected.days.count), "\(id) transactions")
                #expect(record["monetary_total"].flatMap { Decimal(string: $0) } == expected.total, "\(id) total")
                #expect(record["clv.historical"].flatMap { Decimal(string: $0) } == expected.total, "\(id) value")
                #expect(record["first_order_at"] == CDNOWTruth.Customer.timestamp(expected.first), "\(id) first")
                #expect(record["last_order_at"] == CDNOWTruth.Customer.timestamp(expected.last), "\(id) last")
                #expect(record["scored_at"] == "1998-06-30T23:59:59.999Z")
                if let r = record["rfm.r"].flatMap({ Int($0) }), let f = record["rfm.f"].flatMap({ Int($0) }),
                    let m = record["rfm.m"].flatMap({ Int($0) })
                {
                    #expect(record["rfm.segment"] == RFMSegment(r: r, f: f, m: m).rawValue, "\(id) segment")
                } else {
                    Issue.record("\(id) has no RFM scores")
                }
            }
            #expect(compared == truth.customers.count)

            // JSON lines hold the same customers in the same order, each the object of `crm customer ID --json`
            // without its history.
            let objects = try await Self.objects(CustomerQuery(), environment)
            #expect(objects.map { $0["customer_id"] as? String } == records.map { $0["customer_id"] })
            for id in ["00001", "00002", "R-1", "李, \"雷\""] {
                var single = try #require(try await ScoringHarness.customer(id, pool: environment.pool))
                #expect(single.removeValue(forKey: "history") != nil)
                #expect(single["satisfaction"] is [String: Any] && single["three_degree"] is [String: Any])
                let listed = try #require(objects.first { $0["customer_id"] as? String == id })
                #expect(NSDictionary(dictionary: single).isEqual(to: listed), "\(id)")
            }
            #expect(
                objects.first { $0["customer_id"] as? String == "00002" }?["flags"] as? [String] == [
                    "fraud", "opt_out",
                ]
            )

            // Hard text survives CSV: comma, quote, line break, Chinese, in ids and regions.
            let hard = try #require(records.first { $0["customer_id"] == "李, \"雷\"" })
            #expect(hard["region"] == "东部, \"north\"")
            #expect(hard["type"] == "final")
            #expect(records.first { $0["customer_id"] == "R-3" }?["region"] == "west,\nsecond \"line\"")
            let raw = try String(contentsOf: file, encoding: .utf8)
            #expect(raw.contains("\"李, \"\"雷\"\"\",\"东部, \"\"north\"\"\",final,"))
            #expect(raw.contains("R-3,\"west,\nsecond \"\"line\"\"\",intermediate,"))
            #expect(raw.hasPrefix(header.joined(separator: ",") + "\r\n"))
        }
    }

    @Test func everyFilterSelectsWhatTheUnfilteredExportSays() async throws {
        try await TestServers.withEnvironment(migrate: true) { environment in
            try await Self.prepare(environment)
            let all = try await Self.objects(CustomerQuery(), environment)
            func text(_ object: [String: Any], _ key: String) -> String? { object[key] as? String }
            func number(_ object: [String: Any], _ key: String) -> Double? { (object[key] as? NSNumber)?.doubleValue }
            func clv(_ object: [String: Any], _ key: String) -> Decimal? {
                Self.decimal((object["clv"] as? [String: Any])?[key])
            }
            let cases: [(parameters: [(String, String)], keeps: ([String: Any]) -> Bool)] = [
                ([("tier", "gold")], { text($0, "tier") == "gold" }),
                ([("stage", "decline")], { text($0, "lifecycle_stage") == "decline" }),
                ([("grid", "high-low")], { text($0, "grid") == "high-low" }),
                ([("segment", "at_risk")], { ($0["rfm"] as? [String: Any])?["segment"] as? String == "at_risk" }),
                ([("region", "east")], { text($0, "region") == "east" }),
                ([("type", "intermediate")], { text($0, "type") == "intermediate" }),
                ([("min_orders", "5")], { (number($0, "orders_count") ?? 0) >= 5 }),
                ([("max_orders", "2")], { (number($0, "orders_count") ?? 0) <= 2 }),
                ([("min_clv", "100")], { (clv($0, "predicted") ?? -1) >= 100 }),
                ([("max_clv", "10.5")], { clv($0, "predicted").map { $0 <= Decimal(string: "10.5")! } ?? false }),
                ([("min_historical", "500")], { (clv($0, "historical") ?? -1) >= 500 }),
                ([("max_historical", "20")], { (clv($0, "historical") ?? 1e9) <= 20 }),
                ([("min_p_alive", "0.5")], { (number($0, "p_alive") ?? -1) >= 0.5 }),
                ([("max_p_alive", "0.2")], { (number($0, "p_alive") ?? 2) <= 0.2 }),
                (
                    [("last_order_before", "1997-06-01T00:00:00Z")],
                    { (text($0, "last_order_at") ?? "9") < "1997-06-01T00:00:00.000Z" }
                ),
                (
                    [("last_order_after", "1998-03-01T08:00:00+08:00")],
                    { (text($0, "last_order_at") ?? "0") > "1998-03-01T00:00:00.000Z" }
                ),
                ([("flag", "fraud")], { ($0["flags"] as? [String] ?? []).contains("fraud") }),
                (
                    [("tier", "gold"), ("stage", "decline"), ("min_orders", "5")],
                    {
                        text($0, "tier") == "gold" && text($0, "lifecycle_stage") == "decline"
                            && (number($0, "orders_count") ?? 0) >= 5
                    }
                ),
            ]
            for (parameters, keeps) in cases {
                let query = try CustomerQuery(parameters: parameters.map { (name: $0.0, value: $0.1) }, pageLimit: nil)
                let selected = try await Self.objects(query, environment).compactMap { $0["customer_id"] as? String }
                let expected = all.filter(keeps).compactMap { $0["customer_id"] as? String }
                #expect(!expected.isEmpty, "\(parameters) selects nobody in the test data")
                #expect(selected == expected, "\(parameters): \(selected.count) against \(expected.count)")
            }

            // Sorted by predicted value, most first, without a value last, ties by id; the limit takes the first.
            let sorted = try await Self.objects(
                CustomerQuery(sort: CustomerSort(field: .predicted, descending: true), limit: 500),
                environment
            ).compactMap { $0["customer_id"] as? String }
            let expected = all.sorted { a, b in
                let (x, y) = (clv(a, "predicted"), clv(b, "predicted"))
                if x != y { return (x ?? -.greatestFiniteMagnitude) > (y ?? -.greatestFiniteMagnitude) }
                return (a["customer_id"] as! String).utf8.lexicographicallyPrecedes((b["customer_id"] as! String).utf8)
            }.prefix(500).compactMap { $0["customer_id"] as? String }
            #expect(sorted == Array(expected))

            // The command line reads the same filters under their flags, and refuses bad ones in one line, exit 64.
            let variables = environment.serviceVariables
            let listed = try Shell.execute(
                "crm",
                arguments: ["customers", "--region", "east", "--format", "jsonl"],
                environment: variables
            )
            #expect(listed.status == 0)
            #expect(listed.output.split(separator: "\n").count == all.filter { text($0, "region") == "east" }.count)
            for arguments in [
                ["--tier", "platinum"], ["--last-order-before", "1998-01-01"],
                ["--min-orders", "9", "--max-orders", "3"],
                ["--format", "xml"], ["--limit", "0"], ["--sort", "name"],
            ] {
                #expect(
                    try Shell.execute("crm", arguments: ["customers"] + arguments, environment: variables).status == 64,
                    "\(arguments)"
                )
            }
            let refused = Process()
            refused.executableURL = Shell.binDirectory.appendingPathComponent("crm")
            refused.arguments = ["customers", "--min-orders", "9", "--max-orders", "3"]
            refused.environment = ProcessInfo.processInfo.environment.merging(variables) { $1 }
            let errors = Pipe()
            refused.standardError = errors
            refused.standardOutput = FileHandle.nullDevice
            try refused.run()
            refused.waitUntilExit()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(message == "crm: --min-orders: is above --max-orders\n")
        }
    }
}
