import Foundation
import Testing

@testable import CRMContract
@testable import CRMSupport

@Suite("Timestamp")
struct MessageTimestampTests {
    @Test(
        "parses RFC 3339 with an offset into UTC milliseconds",
        arguments: [
            ("2026-11-20T10:15:00+08:00", "2026-11-20T02:15:00.000Z"),
            ("2026-11-20T02:15:00Z", "2026-11-20T02:15:00.000Z"),
            ("2026-11-20t02:15:00z", "2026-11-20T02:15:00.000Z"),
            ("2026-11-19T21:15:00-05:00", "2026-11-20T02:15:00.000Z"),
            ("2026-11-20T02:15:00-00:00", "2026-11-20T02:15:00.000Z"),
            ("2026-11-20T02:15:00.5Z", "2026-11-20T02:15:00.500Z"),
            ("2026-11-20T02:15:00.1239Z", "2026-11-20T02:15:00.123Z"),
            ("2026-11-20T02:15:00.123456789+00:00", "2026-11-20T02:15:00.123Z"),
            ("2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"),
            ("2000-02-29T23:59:59.999Z", "2000-02-29T23:59:59.999Z"),
            ("2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00.000Z"),
            ("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"),
            ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),
            ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
        ]
    )
    func parses(text: String, utc: String) throws {
        let timestamp = try Timestamp(rfc3339: text)
        #expect(timestamp.rfc3339 == utc)
        #expect(try Timestamp(rfc3339: timestamp.rfc3339) == timestamp)
    }

    @Test(
        "refuses text without an offset or not in RFC 3339",
        arguments: [
            "2026-11-20T10:15:00", "2026-11-20 10:15:00Z", "2026-11-20", "2026-11-20T10:15Z",
            "2026-11-20T10:15:00+0800",
            "2026-11-20T10:15:00+08", "2026-11-20T10:15:00.Z", "2026-11-20T10:15:00ZZ", "26-11-20T10:15:00Z",
            "2026-11-20T10:15:00Z ", " 2026-11-20T10:15:00Z", "2026-11-20T10:15:00GMT", "1763605200",
            "２０２６-11-20T10:15:00Z", "", String(repeating: "2026-11-20T10:15:00Z", count: 100),
        ]
    )
    func refusesShape(text: String) {
        #expect(throws: MessageRejection(.invalidValue, field: "", "not RFC 3339 with an offset")) {
            try Timestamp(rfc3339: text)
        }
    }

    @Test(
        "refuses dates and times that do not exist",
        arguments: [
            "2026-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
            "2026-00-10T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-20T24:00:00Z", "2026-11-20T10:60:00Z",
            "2016-12-31T23:59:60Z", "2026-11-20T10:15:00+24:00", "2026-11-20T10:15:00+08:60",
            "0000-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00",
        ]
    )
    func refusesValues(text: String) {
        #expect(throws: MessageRejection(.invalidValue, field: "", "not a valid date and time")) {
            try Timestamp(rfc3339: text)
        }
    }

    /// Foundation's formatter switches to the Julian calendar before October 1582; RFC 3339 is proleptic Gregorian
    /// throughout, so the comparison starts in 1600 (the fixed examples above cover year 1).
    @Test("agrees with Foundation's calendar over thousands of instants from 1600 to 9999")
    func agreesWithFoundation() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let start: Int64 = -11_676_096_000_000  // 1600-01-01T00:00:00Z
        let range: Int64 = 253_402_300_799_999 - start
        for _ in 0..<2_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let milliseconds = Int64(state >> 16) % range + start
            let timestamp = Timestamp(millisecondsSince1970: milliseconds)
            #expect(try Timestamp(rfc3339: timestamp.rfc3339).millisecondsSince1970 == milliseconds)
            let foundation = try #require(formatter.date(from: timestamp.rfc3339))
            #expect(abs(foundation.timeIntervalSince(timestamp.date)) < 0.001, "\(timestamp.rfc3339)")
        }
    }

    @Test("one instant written in two offsets is one timestamp; a date rounds to the millisecond")
    func equality() throws {
        #expect(try Timestamp.of("2026-11-20T10:15:00+08:00") == Timestamp.of("2026-11-20T02:15:00.000Z"))
        #expect(try Timestamp.of("2026-11-20T10:15:00+08:00") < Timestamp.of("2026-11-20T02:15:00.001Z"))
        let date = Date(timeIntervalSince1970: 1_763_604_900.123_6)
        #expect(Timestamp(date).rfc3339 == "2025-11-20T02:15:00.124Z")
        #expect(Timestamp(date) == Timestamp(millisecondsSince1970: 1_763_604_900_124))
    }

    @Test("dates RFC 3339 cannot write are clamped, never trapped on")
    func clamping() {
        #expect(Timestamp(Date(timeIntervalSince1970: .infinity)).rfc3339 == "9999-12-31T23:59:59.999Z")
        #expect(Timestamp(Date(timeIntervalSince1970: -.infinity)).rfc3339 == "0000-01-01T00:00:00.000Z")
        #expect(Timestamp(Date(timeIntervalSince1970: .nan)).rfc3339 == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(millisecondsSince1970: .min).millisecondsSince1970 == Timestamp.earliestMilliseconds)
    }

    @Test(
        "names the field when a message carries a bad timestamp",
        arguments: [
            (#""2026-11-20T10:15:00""#, "occurred_at: not RFC 3339 with an offset"),
            (#""2026-02-30T10:15:00Z""#, "occurred_at: not a valid date and time"),
            ("1763605200", "occurred_at: expected an RFC 3339 string with an offset"),
            ("null", "occurred_at: must not be null"),
        ]
    )
    func inMessage(json: String, expected: String) {
        #expect(reason(Fixture.order(["occurred_at": json])) == expected)
    }
}
