import ArgumentParser
import CRMAMQP
import CRMContract
import CRMPostgres
import Complaints
import Foundation

/// `crm desks`: the configured support desks, their queues and their open complaints.
struct Desks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the support desks: queue depth, consumers, hours and open complaints.",
        discussion: """
            Desks come from the complaint rules in force (`crm rules`), else the default rules file. \
            Queue figures need CRM_AMQP_URL; without a reachable broker they are shown as '-'. Satisfaction: the \
            mean rating (1 to 5) of the complaints rated and the share rated 1 or 2, per desk, and in a table below \
            per category and per tier; --json adds them under "satisfaction".
            """
    )

    @Flag(help: "One JSON object on standard output.")
    var json = false

    struct Row: Encodable {
        var name: String
        var queue: String
        var hours: String
        var messages: Int?
        var consumers: Int?
        var openComplaints: Int
        var breachedOpen: Int
        var escalatedOpen: Int
        var ratings = 0
        var satisfactionMean: Double?
        var lowRatingsShare: Double?

        enum CodingKeys: String, CodingKey {
            case name, queue, hours, messages, consumers, ratings
            case satisfactionMean = "satisfaction_mean"
            case lowRatingsShare = "low_ratings_share"
            case openComplaints = "open_complaints"
            case breachedOpen = "breached_open"
            case escalatedOpen = "escalated_open"
        }
    }

    func run() async throws {
        let environment = CommandEnvironment()
        let connection = PostgresConnection(
            url: try environment.databaseURL(),
            applicationName: "crm-desks",
            logger: environment.logger
        )
        let (rules, origin) = try await ComplaintRulesStore.effectiveRules(
            on: connection,
            defaultFile: environment.rulesFile
        )
        let (figures, satisfaction) = try await connection.transaction { connection in
            (try DeskFigures.load(on: connection), try SatisfactionFigures.load(on: connection))
        }
        let rated = Dictionary(
            satisfaction.filter { $0.dimension == "desk" }.map { ($0.name, $0) },
            uniquingKeysWith: { first, _ in first }
        )
        await connection.close()
        let counts = Dictionary(
            uniqueKeysWithValues: figures.map {
                ($0.desk, (open: $0.open, breached: $0.breachedOpen, escalated: $0.escalatedOpen))
            }
        )
        var rows = rules.desks.map { desk in
            Row(
                name: desk.name,
                queue: desk.queue,
                hours: Self.describe(desk.businessHours),
                openComplaints: counts[desk.name]?.open ?? 0,
                breachedOpen: counts[desk.name]?.breached ?? 0,
                escalatedOpen: counts[desk.name]?.escalated ?? 0,
                ratings: rated[desk.name]?.ratings ?? 0,
                satisfactionMean: rated[desk.name].map { ($0.mean * 100).rounded() / 100 },
                lowRatingsShare: rated[desk.name].map { ($0.lowShare * 10_000).rounded() / 10_000 }
            )
        }
        rows.append(
            Row(
                name: "(escalations)",
                queue: Desk.escalationsQueue,
                hours: "-",
                openComplaints: counts.values.reduce(0) { $0 + $1.escalated },
                breachedOpen: 0,
                escalatedOpen: 0
            )
        )
        if let amqp = try? environment.amqp() {
            let publisher = AMQPPublisher(settings: amqp, name: "crm-desks", logger: environment.logger)
            for index in rows.indices {
                if let figures = try? await publisher.inspectQueue(rows[index].queue) {
                    rows[index].messages = figures.messages
                    rows[index].consumers = figures.consumers
                }
            }
            await publisher.close()
        }
        if json {
            struct Output: Encodable {
                var rules: String
                var desks: [Row]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var object =
                try JSONSerialization.jsonObject(with: try encoder.encode(Output(rules: origin, desks: rows)))
                as? [String: Any] ?? [:]
            object["satisfaction"] = SatisfactionFigures.jsonObject(satisfaction)
            print(try JSONOutput.string(object))
            return
        }
        print("Desks from \(origin):")
        let header = [
            "desk", "queue", "waiting", "consumers", "open", "breached", "escalated", "rated", "mean", "1-2", "hours",
        ]
        let table =
            [header]
            + rows.map { row -> [String] in
                let waiting: String = row.messages.map(String.init) ?? "-"
                let consumers: String = row.consumers.map(String.init) ?? "-"
                let mean: String = row.satisfactionMean.map { String(format: "%.2f", $0) } ?? "-"
                let low: String = row.lowRatingsShare.map { String(format: "%.0f%%", 100 * $0) } ?? "-"
                let counts: [String] = [
                    "\(row.openComplaints)", "\(row.breachedOpen)", "\(row.escalatedOpen)", "\(row.ratings)",
                ]
                return [row.name, row.queue, waiting, consumers] + counts + [mean, low, row.hours]
            }
        let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        for line in table {
            let padded = zip(line.dropLast(), widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
            print((padded + [line.last ?? ""]).joined(separator: "  "))
        }
        print("\nSatisfaction")
        for line in SatisfactionFigures.lines(satisfaction) { print("  \(line)") }
    }

    /// `Asia/Shanghai mon,tue 09:00-18:00`, or `24/7`.
    static func describe(_ hours: BusinessHours?) -> String {
        guard let hours else { return "24/7" }
        func time(_ value: BusinessHours.TimeOfDay) -> String {
            String(format: "%02d:%02d", value.hour, value.minute)
        }
        let windows = hours.windows.map { window in
            "\(window.days.map(\.rawValue).joined(separator: ",")) \(time(window.opens))-\(time(window.closes))"
        }
        return "\(hours.timeZone.identifier) " + windows.joined(separator: "; ")
    }
}
