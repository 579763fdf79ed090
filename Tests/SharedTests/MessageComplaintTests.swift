import Foundation
import Testing

@testable import CRMContract
@testable import CRMSupport

@Suite("complaint.v1, complaint-status.v1, routed complaints and the inbox")
struct MessageComplaintTests {
    @Test("the spec's complaint example decodes")
    func specExample() throws {
        let complaint = try ComplaintMessage.decode(body: Fixture.body(Fixture.complaint))
        #expect(complaint.complaintID == (try Identifier("K-7")))
        #expect(complaint.receivedAt == (try Timestamp(rfc3339: "2026-11-21T09:00:00Z")))
        #expect(complaint.channel == "email")
        #expect(complaint.subject == "Parcel never arrived")
        #expect(complaint.body == "…")
        #expect(complaint.orderID == (try Identifier("A-1001")))
        #expect(complaint.categoryHint == nil)
        #expect(complaint.language == "en")
    }

    @Test("text in any language, and a subject or a body alone, are enough")
    func text() throws {
        let chinese = Fixture.body(
            Fixture.complaint,
            ["subject": #""包裹没有送到""#, "language": #""zh-Hans""#],
            removing: ["body"]
        )
        #expect(try ComplaintMessage.decode(body: chinese).subject == "包裹没有送到")
        let bodyOnly = Fixture.body(Fixture.complaint, removing: ["subject", "order_id", "category_hint", "language"])
        #expect(try ComplaintMessage.decode(body: bodyOnly).subject == nil)
    }

    @Test(
        "complaint rules",
        arguments: [
            ([:], ["subject", "body"], "subject: missing (a complaint needs a subject or a body)"),
            (["subject": #""  ""#, "body": "null"], [], "subject: missing (a complaint needs a subject or a body)"),
            ([:], ["channel"], "channel: missing"),
            ([:], ["received_at"], "received_at: missing"),
            (["received_at": #""2026-11-21 09:00:00""#], [], "received_at: not RFC 3339 with an offset"),
            (["language": #""english!""#], [], #"language: not a BCP 47 language tag like "en" or "zh-Hans""#),
            (["category_hint": #""""#], [], "category_hint: empty"),
            (["schema": #""complaint.v2""#], [], #"schema: unknown "complaint.v2""#),
        ] as [([String: String], Set<String>, String)]
    )
    func rules(changes: [String: String], removing: Set<String>, expected: String) {
        #expect(
            reason(Fixture.body(Fixture.complaint, changes, removing: removing), as: ComplaintMessage.self) == expected
        )
    }

    @Test("a status update decodes; satisfaction is 1 to 5")
    func status() throws {
        let status = try ComplaintStatusMessage.decode(body: Fixture.body(Fixture.complaintStatus))
        #expect(status.status == .resolved)
        #expect(status.at == (try Timestamp(rfc3339: "2026-11-21T10:00:00Z")))
        #expect(status.satisfaction == 4)
        for (json, expected) in [
            ("0", "satisfaction: must be an integer from 1 to 5"),
            ("6", "satisfaction: must be an integer from 1 to 5"),
            ("4.5", "satisfaction: must be an integer from 1 to 5"),
            (#""5""#, "satisfaction: must be an integer from 1 to 5"),
            ("null", "accepted"),
        ] {
            let body = Fixture.body(Fixture.complaintStatus, ["satisfaction": json])
            #expect(reason(body, as: ComplaintStatusMessage.self) == expected)
        }
        let closed = Fixture.body(Fixture.complaintStatus, ["status": #""closed""#])
        #expect(
            reason(closed, as: ComplaintStatusMessage.self)
                == #"status: unknown "closed" (expected one of acknowledged, resolved, reopened)"#
        )
    }

    @Test("complaints.inbox carries both kinds, told apart by schema")
    func inbox() throws {
        let complaint = try ComplaintsInboxMessage.decode(body: Fixture.body(Fixture.complaint))
        #expect(complaint == .complaint(try ComplaintMessage.decode(body: Fixture.body(Fixture.complaint))))
        let status = try ComplaintsInboxMessage.decode(body: Fixture.body(Fixture.complaintStatus))
        guard case .status(let update) = status else {
            Issue.record("expected a status update")
            return
        }
        #expect(update.status == .resolved)
        #expect(status.complaintID == complaint.complaintID)
        #expect(throws: MessageRejection(.unknownSchema, field: "schema", #"unknown "order.v1""#)) {
            try ComplaintsInboxMessage.decode(body: Fixture.order())
        }
        #expect(
            throws: MessageRejection(.missingField, field: "subject", "missing (a complaint needs a subject or a body)")
        ) {
            try ComplaintsInboxMessage.decode(body: Fixture.body(Fixture.complaint, removing: ["subject", "body"]))
        }
    }

    static func routed() throws -> RoutedComplaint {
        RoutedComplaint(
            complaint: try ComplaintMessage.decode(body: Fixture.body(Fixture.complaint)),
            category: "delivery",
            severity: .high,
            priority: .p2,
            desk: "logistics",
            matchedRule: "delivery-keywords",
            customer: .init(
                tier: .gold,
                lifecycleStage: .maturity,
                clv: try Money("2200.5"),
                ordersCount: 14,
                openComplaints: 1
            ),
            sla: .init(
                firstResponseDue: try Timestamp(rfc3339: "2026-11-21T13:00:00Z"),
                resolutionDue: try Timestamp(rfc3339: "2026-11-23T09:00:00Z")
            )
        )
    }

    @Test("a routed complaint is the complaint's fields plus routing's, and round-trips")
    func routedComplaint() throws {
        let routed = try Self.routed()
        let body = try routed.encodedBody()
        #expect(try RoutedComplaint.decode(body: body) == routed)
        let object = try jsonObject(body)
        #expect(object["schema"] as? String == "routed-complaint.v1")
        #expect(object["complaint_id"] as? String == "K-7")
        #expect(object["escalation_level"] as? Int == 0)
        var escalated = routed
        escalated.escalationLevel = 1
        #expect(try RoutedComplaint.decode(body: escalated.encodedBody()).escalationLevel == 1)
    }

    @Test("routed complaint rules")
    func routedRules() throws {
        var routed = try Self.routed()
        routed.escalationLevel = -1
        #expect(
            throws: MessageRejection(
                .invalidValue,
                field: "escalation_level",
                "must be a whole number, 0 when first routed"
            )
        ) {
            try routed.validate()
        }
        routed = try Self.routed()
        routed.sla.resolutionDue = try Timestamp(rfc3339: "2026-11-21T12:00:00Z")
        #expect(throws: MessageRejection(.invalidValue, field: "sla.resolution_due", "before sla.first_response_due")) {
            try routed.validate()
        }
        routed = try Self.routed()
        routed.complaint.subject = nil
        routed.complaint.body = nil
        #expect(
            throws: MessageRejection(.missingField, field: "subject", "missing (a complaint needs a subject or a body)")
        ) {
            try routed.encodedBody()
        }
        let unknown = try Self.routed()
        let body = try unknown.encodedBody()
        var object = try jsonObject(body)
        object["customer"] = [String: Any]()
        object["severity"] = "urgent"
        let changed = try JSONSerialization.data(withJSONObject: object)
        #expect(
            reason(changed, as: RoutedComplaint.self)
                == #"severity: unknown "urgent" (expected one of low, medium, high, critical)"#
        )
        object["severity"] = "low"
        let unknownCustomer = try RoutedComplaint.decode(body: try JSONSerialization.data(withJSONObject: object))
        #expect(unknownCustomer.customer == RoutedComplaint.Customer())
        #expect(ComplaintSeverity.allCases.max() == .critical)
    }
}

/// A routed complaint keeps the complaint's members as they were written, and routing's fields beside them.
@Suite("Routed complaint body")
struct RoutedComplaintBodyTests {
    static let received =
        #"{"schema" : "complaint.v1","complaint_id":"K-7","customer_id":"C-42","received_at":"2026-12-05T10:46:17+08:00","channel":"email","subject":"Parcel","x":[1.50,{"y":"\u00e9"}],"desk":"mine"}"#

    static func routed() throws -> RoutedComplaint {
        RoutedComplaint(
            complaint: try ComplaintMessage.decode(body: Data(received.utf8)),
            category: "delivery",
            severity: .high,
            priority: .p2,
            desk: "logistics",
            matchedRule: "default",
            customer: .init(openComplaints: 1),
            sla: .init(
                firstResponseDue: try Timestamp(rfc3339: "2026-12-05T04:46:17Z"),
                resolutionDue: try Timestamp(rfc3339: "2026-12-06T02:46:17Z")
            )
        )
    }

    @Test func receivedMembersAreKeptVerbatimAndRoutingsAreAdded() throws {
        let body = String(decoding: try Self.routed().encodedBody(received: Data(Self.received.utf8)), as: UTF8.self)
        #expect(
            body.hasPrefix(
                #"{"schema":"routed-complaint.v1","complaint_id":"K-7","customer_id":"C-42","received_at":"2026-12-05T10:46:17+08:00","channel":"email","subject":"Parcel","x":[1.50,{"y":"\u00e9"}],"category":"delivery""#
            ),
            "\(body)"
        )
        #expect(body.contains(#""desk":"logistics""#) && !body.contains(#""desk":"mine""#))
        let again = try RoutedComplaint.decode(body: Data(body.utf8))
        #expect(again == (try Self.routed()))
        let escalated = String(decoding: try RoutedComplaint.escalated(Data(body.utf8), to: 2), as: UTF8.self)
        #expect(escalated == body.replacingOccurrences(of: #""escalation_level":0"#, with: #""escalation_level":2"#))
    }

    @Test func membersSplitAsWritten() throws {
        let split = try #require(JSONMembers.split(Array(#" { "a" : 1 , "b\"c":"}" ,"d":{"e":[1,2]},"f":true}"#.utf8)))
        #expect(split.members.map(\.name) == ["a", "b\"c", "d", "f"])
        #expect(
            split.members.map { String(decoding: $0.text, as: UTF8.self) } == [
                #""a" : 1"#, #""b\"c":"}""#, #""d":{"e":[1,2]}"#, #""f":true"#,
            ]
        )
        #expect(JSONMembers.split(Array("[1]".utf8)) == nil)
        #expect(JSONMembers.split(Array(#"{"a":"#.utf8)) == nil)
    }
}
