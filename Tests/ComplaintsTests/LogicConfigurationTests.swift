import CRMContract
import CRMSupport
import Complaints
import Foundation
import Testing

@Suite("Configuration")
struct LogicConfigurationTests {
    /// The shipped file as a mutable JSON tree, to break one thing at a time.
    static func shippedJSON() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixture.rulesURL))
        return try #require(object as? [String: Any])
    }

    static func load(_ json: [String: Any]) throws -> ComplaintPolicy {
        try ComplaintPolicy(json: JSONSerialization.data(withJSONObject: json))
    }

    @Test("The shipped rules file loads, with every desk and the six default categories")
    func shippedFileLoads() throws {
        let policy = try Fixture.policy()
        let categories: Set<ComplaintCategory> = [
            .delivery, .billing, .productQuality, .serviceAttitude, .account, .other,
        ]
        #expect(categories.isSubset(of: policy.classifier.knownCategories))
        #expect(policy.router.queues.contains("desk.general"))
        #expect(policy.router.queues.last == "desk.escalations")
        #expect(policy.rules.sla.maxEscalationLevel == 3)
    }

    @Test("An invalid pattern is reported naming its category and position")
    func invalidPattern() throws {
        var rules = try Fixture.policy().rules
        rules.classification.categories[1].patterns.append(.init(weight: 2, regex: "(unclosed"))
        let error = try #require(throws: ComplaintConfigurationError.self) { try ComplaintPolicy(rules: rules) }
        #expect(Fixture.codes(error) == ["invalid_pattern"])
        let issue = try #require(error.issues.first)
        #expect(issue.location == "classification.categories[1] \"billing\" patterns[2]")
        #expect(issue.detail.contains("(unclosed"))
    }

    @Test("Every problem is reported at once: bad desk name, unknown desks, reserved and duplicate names")
    func routingProblems() throws {
        var rules = try Fixture.policy().rules
        rules.desks.append(Desk(name: "Night Shift"))
        rules.desks.append(Desk(name: "escalations"))
        rules.desks.append(Desk(name: "billing"))
        rules.routing.rules.append(RoutingRule(name: "to-nowhere", desk: "nowhere"))
        rules.routing.rules.append(RoutingRule(name: "default", desk: "general"))
        rules.routing.rules.append(RoutingRule(name: "typo", when: .init(categoryIn: ["delivry"]), desk: "general"))
        rules.routing.defaultDesk = "missing"
        let error = try #require(throws: ComplaintConfigurationError.self) { try ComplaintPolicy(rules: rules) }
        let codes = Fixture.codes(error)
        #expect(codes.filter { $0 == "invalid_name" }.count == 3)  // "Night Shift", "escalations", rule "default"
        #expect(codes.filter { $0 == "unknown_desk" }.count == 2)  // "nowhere", default "missing"
        #expect(codes.contains("duplicate_name"))
        #expect(codes.contains("unknown_category"))
        #expect(error.description.contains("to-nowhere"))
    }

    @Test("A misspelt key is an error, not a silently ignored condition")
    func unknownKey() throws {
        var json = try Self.shippedJSON()
        var routing = try #require(json["routing"] as? [String: Any])
        routing["rules"] = [["name": "typo", "when": ["categroy_in": ["billing"]], "desk": "billing"]]
        json["routing"] = routing
        let error = try #require(throws: ComplaintConfigurationError.self) { try Self.load(json) }
        #expect(Fixture.codes(error) == ["malformed_document"])
        #expect(error.issues.first?.location == "routing.rules[0].when.categroy_in")
    }

    @Test("A wrong type, an unknown time zone and bad JSON name where they are")
    func malformed() throws {
        var json = try Self.shippedJSON()
        json["sla"] = ["targets": ["p1": ["first_response_minutes": "soon", "resolution_minutes": 60]]]
        let wrongType = try #require(throws: ComplaintConfigurationError.self) { try Self.load(json) }
        #expect(wrongType.issues.first?.location == "sla.targets.p1.first_response_minutes")

        json = try Self.shippedJSON()
        var desks = try #require(json["desks"] as? [[String: Any]])
        desks[0]["business_hours"] = ["time_zone": "Asia/Shangai", "windows": []]
        json["desks"] = desks
        let zone = try #require(throws: ComplaintConfigurationError.self) { try Self.load(json) }
        #expect(zone.issues.first?.location == "desks[0].business_hours.time_zone")

        #expect(throws: ComplaintConfigurationError.self) { try ComplaintPolicy(json: Data("{\"version\": 1,".utf8)) }
    }

    @Test("Out-of-range settings are rejected")
    func ranges() throws {
        var rules = try Fixture.policy().rules
        rules.version = 2
        rules.classification.minScore = 0
        rules.sla.warningFraction = 1.5
        rules.sla.targets[.p4] = nil
        rules.desks[2].businessHours?.windows.append(
            .init(
                days: [.mon],
                opens: try #require(.init(hour: 11, minute: 0)),
                closes: try #require(.init(hour: 14, minute: 0))
            )
        )
        let error = try #require(throws: ComplaintConfigurationError.self) { try ComplaintPolicy(rules: rules) }
        let locations = error.issues.map(\.location)
        for expected in [
            "version", "classification.min_score", "sla.warning_fraction", "sla.targets",
            "desks[2] \"legal\".business_hours.windows",
        ] {
            #expect(locations.contains(expected), "missing \(expected) in \(locations)")
        }
    }

    @Test("Rules survive encoding to JSON and back, as when stored in the database")
    func roundTrip() throws {
        let rules = try Fixture.policy().rules
        let decoded = try ComplaintRules.decode(from: JSONEncoder().encode(rules))
        #expect(decoded == rules)
    }
}

/// The rules built into the binaries are the shipped file, byte for byte (`scripts/embed-defaults.sh` writes them).
@Suite("Built-in complaint rules")
struct BuiltInRulesTests {
    @Test func theBuiltInRulesAreTheShippedFile() throws {
        let file = try String(contentsOf: Fixture.rulesURL, encoding: .utf8)
        #expect(DefaultComplaintRules.json + "\n" == file, "run scripts/embed-defaults.sh")
        #expect(try ComplaintPolicy(json: Data(DefaultComplaintRules.json.utf8)).rules.desks.count > 1)
        #expect(try ComplaintRulesStore.defaultRules(file: nil).source == DefaultComplaintRules.source)
        #expect(try ComplaintsConfiguration(settings: Settings([:])).rulesFile == nil)
    }
}
