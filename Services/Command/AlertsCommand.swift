import Alerts
import ArgumentParser
import CRMContract
import Foundation

/// `crm alerts`: the retention alerts, one a line, with their group, desk feedback and observed outcome.
struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List retention alerts with their group, desk status, churn cause and observed outcome.",
        discussion: """
            Oldest first. The observed outcome comes from the orders after the alert's as_of within \
            CRM_ALERTS_OUTCOME_WINDOW: returned, not_returned or pending. Control alerts (group control) were \
            stored and never published. With --json, one JSON object a line: alert_id, customer_id, group, \
            priority, reasons, value_at_risk, raised_at, as_of, status, feedback_outcome, churn_cause, \
            observed_outcome, returned_value.
            """
    )

    @Option(help: "Only alerts with this desk status: open, acknowledged or resolved.")
    var status: String?

    @Option(help: "Only alerts of this group: alerted or control.")
    var group: String?

    @Flag(help: "One JSON object a line.")
    var json = false

    func validate() throws {
        if let status, !AlertListing.statuses.contains(status) {
            throw ValidationError("--status: expected open, acknowledged or resolved, got \"\(status)\"")
        }
        if let group, AlertGroup(rawValue: group) == nil {
            throw ValidationError("--group: expected alerted or control, got \"\(group)\"")
        }
    }

    func run() async throws {
        let pool = try CommandEnvironment().pool()
        let listing = AlertListing(status: status, group: group.flatMap(AlertGroup.init(rawValue:)))
        let json = json
        var count = 0
        do {
            if !json {
                print(
                    [
                        "alert_id".padding(toLength: 36, withPad: " ", startingAt: 0), "customer".padded(12), "group  ",
                        "pri", "status      ", "as_of     ", "outcome     ", "returned".leftPadded(to: 10, with: " "),
                        "feedback", "cause",
                    ].joined(separator: "  ")
                )
            }
            try await listing.forEachPage(pool: pool) { lines in
                count += lines.count
                var output = ""
                for line in lines {
                    if json {
                        let data = try JSONSerialization.data(
                            withJSONObject: line.jsonObject,
                            options: [.sortedKeys, .withoutEscapingSlashes]
                        )
                        output += String(decoding: data, as: UTF8.self) + "\n"
                    } else {
                        output += Self.text(line) + "\n"
                    }
                }
                FileHandle.standardOutput.write(Data(output.utf8))
            }
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
        if !json { FileHandle.standardError.write(Data("\(count) alerts\n".utf8)) }
    }

    static func text(_ line: AlertListing.Line) -> String {
        [
            line.alertID.uuidString.lowercased(), line.customerID.padded(12), line.group.rawValue.padded(7),
            line.priority, line.status.padded(12), String(Timestamp(line.asOf).rfc3339.prefix(10)),
            line.observedOutcome.rawValue.padded(12),
            RetentionReport.money(line.returnedValue).leftPadded(to: 10, with: " "),
            (line.feedbackOutcome ?? "-").padded(8), line.churnCause ?? "-",
        ].joined(separator: "  ")
    }
}

/// `crm retention`: do the alerts bring customers back? Return rates of the alerted and control groups, the uplift
/// with its 95% interval, and the customers lost by cause and tier.
struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Report return rates by group, the uplift of the alerts with its 95% interval, and lost customers.",
        discussion: """
            Return rate = returned / (returned + not returned): pending alerts are left out until their window \
            passes. The uplift is the alerted return rate minus the control group's, with the usual 95% interval \
            for a difference of two proportions; with fewer than 30 decided alerts in a group the report says it \
            is too early to conclude. Lost customers are those the desks resolved as lost, by churn_cause \
            (unknown when none was given) and the tier they were alerted at.
            """
    )

    @Flag(help: "Print the report as one JSON object.")
    var json = false

    func run() async throws {
        let pool = try CommandEnvironment().pool()
        let report: RetentionReport
        do {
            report = try await RetentionReport.load(pool: pool)
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
        if json {
            let data = try JSONSerialization.data(
                withJSONObject: report.jsonObject,
                options: [.sortedKeys, .withoutEscapingSlashes]
            )
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(report.text)
        }
    }
}

extension String {
    fileprivate func padded(_ width: Int) -> String {
        padding(toLength: max(width, count), withPad: " ", startingAt: 0)
    }
}
