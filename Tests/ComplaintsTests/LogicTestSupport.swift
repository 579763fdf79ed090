import Complaints
import Foundation
import Testing

/// Shared fixtures: the shipped rules file and small builders with fixed dates.
enum Fixture {
    /// `deploy/complaint-rules.json` of this package, found from this file's path.
    static let rulesURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("deploy/complaint-rules.json")

    /// The shipped rules, loaded and compiled once for the whole suite.
    static let loadedPolicy = Result { () throws -> ComplaintPolicy in
        try ComplaintPolicy(json: Data(contentsOf: rulesURL))
    }

    /// The shipped rules; fails the calling test if they do not load.
    static func policy() throws -> ComplaintPolicy {
        try loadedPolicy.get()
    }

    /// An RFC 3339 instant.
    static func date(_ text: String) throws -> Date {
        try Date(text, strategy: .iso8601)
    }

    /// A complaint received at a fixed time.
    static func complaint(
        subject: String? = nil,
        body: String? = nil,
        hint: String? = nil,
        channel: String = "email",
        language: String? = nil
    ) -> ComplaintFacts {
        ComplaintFacts(
            receivedAt: Date(timeIntervalSince1970: 1_795_000_000),
            channel: channel,
            subject: subject,
            body: body,
            categoryHint: hint,
            language: language
        )
    }

    /// Classifies text with the shipped rules for a customer never seen.
    static func classify(
        _ text: String,
        hint: String? = nil,
        customer: CustomerSnapshot = .unknown
    ) throws -> ComplaintClassification {
        try policy().classifier.classify(complaint(body: text, hint: hint), customer: customer)
    }

    /// Business hours in a zone, the same window on the given days.
    static func hours(
        _ zone: String,
        _ days: [BusinessHours.Weekday],
        _ opens: (Int, Int),
        _ closes: (Int, Int),
        closed: Set<String> = []
    ) throws -> BusinessHours {
        let timeZone = try #require(TimeZone(identifier: zone))
        let open = try #require(BusinessHours.TimeOfDay(hour: opens.0, minute: opens.1))
        let close = try #require(BusinessHours.TimeOfDay(hour: closes.0, minute: closes.1))
        return BusinessHours(
            timeZone: timeZone,
            windows: [.init(days: days, opens: open, closes: close)],
            closedDates: closed
        )
    }

    /// The issue codes of a configuration error, for compact assertions.
    static func codes(_ error: ComplaintConfigurationError) -> [String] {
        error.issues.map(\.code.description)
    }
}
