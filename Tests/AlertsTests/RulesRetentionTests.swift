import CRMContract
import CRMRuntime
import CRMSupport
import Foundation
import Testing

@testable import Alerts

/// The control group's hash, the uplift's interval, and the version 2 fields of the alert messages.
@Suite("Retention: control group, uplift, churn causes")
struct RulesRetentionTests {
    static let cdnowIDs: [String] = {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/cdnow/CDNOW_master.txt")
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        var ids = Set<String>()
        for line in text.split(whereSeparator: \.isNewline) {
            if let id = line.split(separator: " ", omittingEmptySubsequences: true).first, id.allSatisfy(\.isNumber) {
                ids.insert(String(id))
            }
        }
        return ids.sorted()
    }()

    @Test func theHashIsMD5sFirst32BitsAsPostgreSQLComputesThem() {
        // md5('C-42') = 'f3e7f38d...' in PostgreSQL; ('x' || 'f3e7f38d')::bit(32)::bigint / 2^32.
        let expected = Double(UInt32(MD5.hex("C-42").prefix(8), radix: 16)!) / 4_294_967_296
        #expect(ControlGroup.position(of: "C-42") == expected)
        #expect(MD5.hex("") == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(ControlGroup.position(of: "") == Double(0xd41d_8cd9) / 4_294_967_296)
    }

    @Test func aCustomerKeepsItsGroupAndTheShareIsNearTheSetting() throws {
        #expect(Self.cdnowIDs.count == 23_570)
        for share in [0.05, 0.1, 0.25, 0.5] {
            let control = ControlGroup(share: share)
            let inControl = Self.cdnowIDs.filter { control.group(of: $0) == .control }.count
            let observed = Double(inControl) / Double(Self.cdnowIDs.count)
            // Three standard errors of a binomial share on 23,570 customers.
            let tolerance = 3 * (share * (1 - share) / Double(Self.cdnowIDs.count)).squareRoot()
            #expect(abs(observed - share) < tolerance, "share \(share): \(observed)")
            // The same answer every time, and a larger share only adds customers to the control group.
            let again = Self.cdnowIDs.filter { ControlGroup(share: share).group(of: $0) == .control }.count
            #expect(again == inControl)
        }
        let small = ControlGroup(share: 0.1)
        let large = ControlGroup(share: 0.3)
        for id in Self.cdnowIDs.prefix(5_000) where small.group(of: id) == .control {
            #expect(large.group(of: id) == .control)
        }
        #expect(Self.cdnowIDs.allSatisfy { ControlGroup(share: 0).group(of: $0) == .alerted })
        #expect(Self.cdnowIDs.allSatisfy { ControlGroup(share: 1).group(of: $0) == .control })
    }

    @Test func upliftIsTheDifferenceOfTwoProportionsWithItsWaldInterval() throws {
        // 120 of 400 alerted customers returned against 20 of 100 in the control group.
        let uplift = try #require(
            Uplift(alertedReturned: 120, alertedDecided: 400, controlReturned: 20, controlDecided: 100)
        )
        let error = (0.3 * 0.7 / 400 + 0.2 * 0.8 / 100).squareRoot()
        #expect(abs(uplift.estimate - 0.1) < 1e-12)
        #expect(abs(uplift.low - (0.1 - 1.959_963_984_540_054 * error)) < 1e-12)
        #expect(abs(uplift.high - (0.1 + 1.959_963_984_540_054 * error)) < 1e-12)
        #expect(abs(uplift.low - 0.0096) < 0.0005 && abs(uplift.high - 0.1904) < 0.0005)
        #expect(uplift.isConclusive && uplift.isPositive)

        let small = try #require(
            Uplift(alertedReturned: 10, alertedDecided: 29, controlReturned: 20, controlDecided: 100)
        )
        #expect(!small.isConclusive && !small.isPositive)
        #expect(Uplift(alertedReturned: 1, alertedDecided: 2, controlReturned: 0, controlDecided: 0) == nil)
    }

    @Test func theReportSaysWhenAGroupIsTooSmall() {
        func group(_ name: AlertGroup, _ returned: Int, _ notReturned: Int) -> RetentionReport.Group {
            RetentionReport.Group(
                group: name,
                alerts: returned + notReturned + 3,
                returned: returned,
                notReturned: notReturned,
                pending: 3,
                returnedValue: Decimal(string: "1234.5")!
            )
        }
        var report = RetentionReport(
            groups: [group(.alerted, 300, 700), group(.control, 10, 15)],
            uplift: Uplift(alertedReturned: 300, alertedDecided: 1000, controlReturned: 10, controlDecided: 25),
            lost: [],
            lostCustomers: 0,
            serviceFailureShare: nil
        )
        #expect(report.caution?.contains("control group") == true)
        #expect(report.text.contains("Caution: too few alerts to conclude"))
        let json = report.jsonObject
        let groups = json["groups"] as? [String: [String: Any]]
        #expect(groups?["control"]?["too_small"] as? Bool == true)
        #expect(groups?["alerted"]?["returned_value"] as? String == "1234.50")
        #expect(groups?["alerted"]?["return_rate"] as? Double == 0.3)
        report.groups[1] = group(.control, 30, 70)
        #expect(report.caution == nil)
    }

    @Test func feedbackCarriesChurnTypeAndCauseAndRefusesUnknownWords() throws {
        for cause in ChurnCause.allCases {
            let body = Data(
                """
                {"schema": "alert-feedback.v1", "alert_id": "a-1", "status": "resolved", "outcome": "lost",
                 "churn_type": "active", "churn_cause": "\(cause.rawValue)", "at": "2026-12-01T10:00:00Z"}
                """.utf8
            )
            let feedback = try AlertFeedback.decode(body: body)
            #expect(feedback.churnCause == cause && feedback.churnType == .active)
            #expect(try AlertFeedback.decode(body: try feedback.encodedBody()) == feedback)
        }
        let badCause = Data(
            """
            {"schema": "alert-feedback.v1", "alert_id": "a-1", "status": "resolved", "outcome": "lost",
             "churn_cause": "price", "at": "2026-12-01T10:00:00Z"}
            """.utf8
        )
        #expect(
            throws: MessageRejection(
                .invalidValue,
                field: "churn_cause",
                #"unknown "price" (expected one of natural, competitive, service_failure, abandoned, other)"#
            )
        ) { try AlertFeedback.decode(body: badCause) }
        let badType = Data(
            """
            {"schema": "alert-feedback.v1", "alert_id": "a-1", "status": "resolved", "churn_type": "angry",
             "at": "2026-12-01T10:00:00Z"}
            """.utf8
        )
        #expect(throws: MessageRejection.self) { try AlertFeedback.decode(body: badType) }
        // Version 1 feedback stays valid.
        let plain = try AlertFeedback.decode(
            body: Data(
                #"{"schema":"alert-feedback.v1","alert_id":"a-1","status":"acknowledged","at":"2026-12-01T10:00:00Z"}"#
                    .utf8
            )
        )
        #expect(plain.churnCause == nil && plain.churnType == nil)
    }

    @Test func controlShareAndOutcomeWindowSettings() throws {
        let defaults = try AlertsConfiguration(Settings([:]))
        #expect(defaults.controlShare == 0.1 && defaults.outcomeWindow == .seconds(90 * 86_400))
        let set = try AlertsConfiguration(
            Settings(["CRM_ALERTS_CONTROL_SHARE": "0.25", "CRM_ALERTS_OUTCOME_WINDOW": "60d"])
        )
        #expect(set.controlShare == 0.25 && set.outcomeWindow == .seconds(60 * 86_400))
        #expect(try AlertsConfiguration(Settings(["CRM_ALERTS_CONTROL_SHARE": "0"])).controlGroup.share == 0)
        for (variable, value) in [
            ("CRM_ALERTS_CONTROL_SHARE", "1.5"), ("CRM_ALERTS_CONTROL_SHARE", "ten"),
            ("CRM_ALERTS_OUTCOME_WINDOW", "soon"),
        ] {
            #expect(throws: SettingsError.self) { try AlertsConfiguration(Settings([variable: value])) }
        }
    }
}
