import CRMContract
import CRMSupport
import Complaints
import Foundation
import TestSupport
import Testing

/// The routed complaint is the complaint as received, with routing's fields beside it, and within 256 KiB.
@Suite("Complaints service: the routed body")
struct ServiceRoutedBodyTests {
    @Test func everyReceivedMemberGoesOnVerbatimAndALargeBodyIsCutWithAMarker() async throws {
        try await TestServers.withEnvironment { environment in
            try await ComplaintsHarness.load(rules: try ComplaintsHarness.roundTheClockRules(), environment)
            let publisher = ComplaintsHarness.publisher(environment)
            let received = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-60))  // no fraction, "Z"
            let small =
                #"{"schema":"complaint.v1","complaint_id":"V-1","customer_id":"C-1","received_at":"\#(received)","channel":"email","subject":"Parcel never arrived","ticket_ref":{"system":"zendesk","id":12.50},"priority":"p1"}"#
            // As large as the interface allows: what routing adds would take it past 256 KiB.
            let head =
                #"{"schema":"complaint.v1","complaint_id":"V-2","customer_id":"C-1","received_at":"\#(received)","channel":"email","subject":"Long","body":""#
            let filler = String(repeating: "The parcel never arrived. ", count: 12_000)
            let text = String(filler.prefix(MessageBody.maximumSize - head.utf8.count - 2))
            let large = head + text + #""}"#
            #expect(large.utf8.count == MessageBody.maximumSize)
            let routed = try await ComplaintsHarness.whileRunning(environment) {
                try await ComplaintsHarness.publish([Data(small.utf8), Data(large.utf8)], with: publisher)
                var taken: [Data] = []
                for desk in ComplaintsHarness.shippedDesks where taken.count < 2 {
                    taken += try await ComplaintsHarness.take(
                        2 - taken.count,
                        from: "desk.\(desk)",
                        environment,
                        timeout: .milliseconds(500)
                    )
                    .map(\.body)
                }
                return taken
            }
            #expect(routed.count == 2)
            let first = try #require(routed.first { String(decoding: $0, as: UTF8.self).contains("V-1") })
            let text1 = String(decoding: first, as: UTF8.self)
            #expect(text1.contains(#""received_at":"\#(received)""#), "\(text1)")
            #expect(text1.contains(#""ticket_ref":{"system":"zendesk","id":12.50}"#))
            #expect(text1.hasPrefix(#"{"schema":"routed-complaint.v1","complaint_id":"V-1","customer_id":"C-1""#))
            let decoded = try RoutedComplaint.decode(body: first)
            #expect(decoded.escalationLevel == 0)
            // The sender's "priority" is not routing's: routing's wins, once.
            #expect(text1.components(separatedBy: #""priority":"#).count == 2)

            let second = try #require(routed.first { String(decoding: $0, as: UTF8.self).contains("V-2") })
            #expect(second.count <= MessageBody.maximumSize)
            let object = try #require(try JSONSerialization.jsonObject(with: second) as? [String: Any])
            #expect(object["body_truncated"] as? Bool == true)
            let body = try #require(object["body"] as? String)
            #expect(body.hasSuffix(RoutedComplaint.truncationMarker))
            #expect(text.hasPrefix(String(body.dropLast(RoutedComplaint.truncationMarker.count))))
            #expect(object["received_at"] as? String == received)
            await publisher.close()
        }
    }
}
