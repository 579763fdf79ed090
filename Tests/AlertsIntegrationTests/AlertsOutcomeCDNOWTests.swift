import CRMAMQP
import CRMContract
import CRMOutbox
import CRMRuntime
import CRMSupport
import Foundation
import Intake
import Scoring
import TestSupport
import Testing

@testable import Alerts

private typealias H = AlertsHarness

/// The CDNOW master file rescored as of 1997-12-31 and then as of 1998-06-30, through two replicas of crm-alerts with
/// a control group of a fifth: every alert's observed outcome and returned value are what the file says.
@Suite("Alert outcomes on CDNOW")
struct AlertsOutcomeCDNOWTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/cdnow/CDNOW_master.txt")
    static let share = 0.2
    static let window: TimeInterval = 90 * 86_400

    /// The file's purchases per customer: (UTC midnight of the day, dollars), read independently of intake.
    static func purchases() throws -> [String: [(at: Date, dollars: Decimal)]] {
        var result: [String: [(Date, Decimal)]] = [:]
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for line in try String(contentsOf: file, encoding: .utf8).split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 4, let day = Int(fields[1]), let dollars = Decimal(string: String(fields[3])) else {
                continue
            }
            let date = calendar.date(from: DateComponents(year: day / 10_000, month: day / 100 % 100, day: day % 100))!
            result[String(fields[0]), default: []].append((date, dollars))
        }
        return result
    }

    @Test func outcomesAndReturnedValuesMatchTheFileAndControlAlertsStayUnpublished() async throws {
        try await TestServers.withEnvironment { environment in
            let (_, bodies) = try OrderFile.bodies(of: Self.file)
            let intake = OrderIntakeHandler(pool: environment.pool, outbox: Outbox(of: .intake), baseCurrency: "USD")
            for start in stride(from: 0, to: bodies.count, by: 2_000) {
                let batch = bodies[start..<min(start + 2_000, bodies.count)].map { InboundMessage(body: $0) }
                #expect(try await intake.handle(batch).allSatisfy { $0 == .processed })
            }
            let rescoring = FullRescoring(
                pool: environment.pool,
                outbox: Outbox(of: .scoring),
                settings: ScoringConfiguration(),
                logger: TestServers.logger
            )
            let publisher = H.publisher(environment)
            try await publisher.connect()
            let first = try Timestamp(rfc3339: "1997-12-31T23:59:59.999Z").date
            let second = try Timestamp(rfc3339: "1998-06-30T23:59:59.999Z").date
            let settings = H.settings(controlShare: Self.share)

            /// Rescoring as of `asOf`, its events published and evaluated, and its outcome update run.
            @Sendable func rescore(_ asOf: Date, after previous: Date) async throws {
                let report = try await rescoring.run(asOf: asOf)
                let scoringPublisher = AMQPPublisher(
                    settings: environment.amqp,
                    name: "scoring",
                    topology: Topology.scoring,
                    logger: TestServers.logger
                )
                let scoringRelay = OutboxRelay(
                    source: "scoring",
                    pool: environment.pool,
                    publisher: scoringPublisher,
                    logger: TestServers.logger
                )
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await scoringRelay.run() }
                    let done = try await eventually(.seconds(900)) {
                        let evaluated = try await H.count(
                            environment,
                            "SELECT count(*) FROM alert_customer_state WHERE scored_at > $1",
                            [previous]
                        )
                        let outboxes = try await H.count(
                            environment,
                            "SELECT count(*) FROM crm_outbox WHERE source <> 'intake'"
                        )
                        let judged = try await H.count(
                            environment,
                            """
                            SELECT count(*) FROM alert_outcome_runs
                            WHERE model_id = (SELECT max(model_id) FROM scoring_models) AND finished_at IS NOT NULL
                            """
                        )
                        let waiting = try await publisher.inspectQueue(Topology.alertEventsQueue).messages
                        return evaluated == report.events && outboxes == 0 && judged == 1 && waiting == 0
                    }
                    #expect(done, "rescoring as of \(asOf)")
                    group.cancelAll()
                }
                await scoringPublisher.close()
            }
            let received = try await H.whileRunning(environment, settings: settings, replicas: 2) {
                try await rescore(first, after: Date(timeIntervalSince1970: 0))
                try await rescore(second, after: first)
                return try await H.drainAlerts(environment)
            }

            let rows = try await environment.pool.query(
                """
                SELECT alert_id::text, customer_id, alert_group, delivery, as_of, outcome_as_of, observed_outcome,
                       returned_value, returned_at
                FROM retention_alerts ORDER BY as_of, customer_id
                """
            )
            let purchases = try Self.purchases()
            var alerted = Set<String>()
            var control = Set<String>()
            var groupOf: [String: String] = [:]
            var tally: [String: [String: Int]] = [:]
            var values: [String: Decimal] = [:]
            var asOfs = Set<Date>()
            for row in rows {
                let id: String = try row.decode(0)
                let customer: String = try row.decode(1)
                let group: String = try row.decode(2)
                let asOf: Date = try row.decode(4)
                let judgedAt: Date = try row.decode(5)
                let outcome: String = try row.decode(6)
                let value: Decimal = try row.decode(7)
                let returnedAt = try row.decodeIfPresent(8, as: Date.self)
                asOfs.insert(asOf)
                // Judged as of the last rescoring, from the file's purchases after as_of within the window.
                #expect(abs(judgedAt.timeIntervalSince(second)) < 0.001)
                let end = min(asOf.addingTimeInterval(Self.window), judgedAt)
                let within = (purchases[customer] ?? []).filter { $0.at > asOf && $0.at <= end }
                let expected =
                    !within.isEmpty
                    ? "returned" : judgedAt >= asOf.addingTimeInterval(Self.window) ? "not_returned" : "pending"
                #expect(outcome == expected, "\(customer) as of \(asOf)")
                #expect(value == within.reduce(Decimal(0)) { $0 + $1.dollars }, "\(customer) as of \(asOf)")
                #expect(returnedAt == within.map(\.at).min())
                // The group is the hash's, the same in both rescorings, and only alerted alerts are delivered.
                #expect(group == ControlGroup(share: Self.share).group(of: customer).rawValue)
                #expect(groupOf.updateValue(group, forKey: customer).map { $0 == group } ?? true)
                #expect((group == "control") == (try row.decode(3, as: String.self) == "control"))
                if group == "control" { control.insert(id) } else { alerted.insert(id) }
                tally[group, default: [:]][outcome, default: 0] += 1
                values[group, default: 0] += value
            }
            #expect(
                asOfs.count == 2
                    && asOfs.allSatisfy {
                        abs($0.timeIntervalSince(first)) < 0.001 || abs($0.timeIntervalSince(second)) < 0.001
                    }
            )
            #expect(rows.count > 1_000)
            // Decided outcomes for the first rescoring's alerts (its window ended 1998-03-31), pending for the second's.
            #expect((tally["alerted"]?["returned"] ?? 0) > 100 && (tally["alerted"]?["not_returned"] ?? 0) > 100)
            #expect((tally["alerted"]?["pending"] ?? 0) > 100)

            // The control share is near the setting: within three standard errors over the customers alerted.
            let customers = Double(groupOf.count)
            let controlCustomers = Double(groupOf.values.filter { $0 == "control" }.count)
            let tolerance = 3 * (Self.share * (1 - Self.share) / customers).squareRoot()
            #expect(abs(controlCustomers / customers - Self.share) < tolerance, "\(controlCustomers) of \(customers)")

            // No control alert reached a desk queue; every alerted one did, once.
            let delivered = received.map(\.alert.alertID.rawValue)
            #expect(delivered.count == alerted.count && Set(delivered) == alerted)
            #expect(control.isDisjoint(with: delivered))
            #expect(received.allSatisfy { $0.alert.asOf != nil })

            // The report agrees with the rows.
            let report = try await RetentionReport.load(pool: environment.pool)
            for group in report.groups {
                let counts = tally[group.group.rawValue] ?? [:]
                #expect(group.returned == counts["returned"] ?? 0 && group.notReturned == counts["not_returned"] ?? 0)
                #expect(group.pending == counts["pending"] ?? 0)
                #expect(
                    RetentionReport.money(group.returnedValue)
                        == RetentionReport.money(values[group.group.rawValue] ?? 0)
                )
            }
            let uplift = try #require(report.uplift)
            print(
                "CDNOW outcomes: \(rows.count) alerts (\(alerted.count) alerted, \(control.count) control); "
                    + "alerted \(tally["alerted"] ?? [:]), control \(tally["control"] ?? [:]); uplift "
                    + String(format: "%+.3f [%+.3f, %+.3f]", uplift.estimate, uplift.low, uplift.high)
            )
            await publisher.close()
        }
    }
}
