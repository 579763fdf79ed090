import CRMSupport
import Complaints
import Foundation
import Testing

@Suite("Business hours")
struct LogicBusinessHoursTests {
    static let weekdays: [BusinessHours.Weekday] = [.mon, .tue, .wed, .thu, .fri]

    @Test("A due time skips the night and the weekend in Asia/Shanghai")
    func acrossWeekend() throws {
        let time = WorkingTime.businessHours(try Fixture.hours("Asia/Shanghai", Self.weekdays, (9, 0), (18, 0)))
        // Friday 16:00 local with four working hours: two on Friday, two on Monday morning.
        let received = try Fixture.date("2026-11-20T16:00:00+08:00")
        let due = time.date(byAdding: 4 * 3600, to: received)
        #expect(due == (try Fixture.date("2026-11-23T11:00:00+08:00")))
        #expect(time.seconds(from: received, to: due) == 4 * 3600)
    }

    @Test("A complaint received while closed starts counting at the next opening")
    func receivedWhileClosed() throws {
        let time = WorkingTime.businessHours(try Fixture.hours("Asia/Shanghai", Self.weekdays, (9, 0), (18, 0)))
        let saturday = try Fixture.date("2026-11-21T10:00:00+08:00")
        #expect(time.date(byAdding: 3600, to: saturday) == (try Fixture.date("2026-11-23T10:00:00+08:00")))
        #expect(time.seconds(from: saturday, to: try Fixture.date("2026-11-23T09:30:00+08:00")) == 1800)
    }

    @Test("Working seconds between two instants count only open time")
    func elapsed() throws {
        let time = WorkingTime.businessHours(try Fixture.hours("Asia/Shanghai", Self.weekdays, (9, 0), (18, 0)))
        let friday = try Fixture.date("2026-11-20T17:00:00+08:00")
        let monday = try Fixture.date("2026-11-23T10:00:00+08:00")
        #expect(time.seconds(from: friday, to: monday) == 2 * 3600)
        #expect(time.seconds(from: monday, to: friday) == 0)
        #expect(WorkingTime.continuous.seconds(from: friday, to: monday) == 65 * 3600)
    }

    @Test("A lunch break and public holidays are skipped (the shipped legal desk)")
    func lunchAndHolidays() throws {
        let legal = try #require(try Fixture.policy().router.desk(named: "legal")).workingTime
        let morning = try Fixture.date("2026-11-23T11:00:00+08:00")
        #expect(legal.date(byAdding: 2 * 3600, to: morning) == (try Fixture.date("2026-11-23T14:30:00+08:00")))
        // Wednesday 30 September 17:00, four hours: one that day, then the National Day week is closed.
        let beforeHoliday = try Fixture.date("2026-09-30T17:00:00+08:00")
        #expect(legal.date(byAdding: 4 * 3600, to: beforeHoliday) == (try Fixture.date("2026-10-08T12:00:00+08:00")))
    }

    @Test("Local opening times follow daylight saving (Europe/London, 29 March 2026)")
    func daylightSaving() throws {
        let everyDay = BusinessHours.Weekday.allCases
        let time = WorkingTime.businessHours(try Fixture.hours("Europe/London", everyDay, (9, 0), (17, 0)))
        // Saturday 16:00 GMT: one hour that day; Sunday opens at 09:00 BST, which is 08:00 UTC.
        let due = time.date(byAdding: 2 * 3600, to: try Fixture.date("2026-03-28T16:00:00Z"))
        #expect(due == (try Fixture.date("2026-03-29T10:00:00+01:00")))
    }

    @Test("Around the clock adds plain seconds")
    func continuous() throws {
        let start = try Fixture.date("2026-11-21T23:30:00Z")
        #expect(WorkingTime.continuous.date(byAdding: 3600, to: start) == (try Fixture.date("2026-11-22T00:30:00Z")))
    }

    @Test("Times of day parse HH:MM up to 24:00 and nothing else")
    func timeOfDay() throws {
        let decode = { (text: String) in
            try JSONDecoder().decode([BusinessHours.TimeOfDay].self, from: Data("[\"\(text)\"]".utf8)).first
        }
        #expect(try decode("09:30") == BusinessHours.TimeOfDay(hour: 9, minute: 30))
        #expect(try decode("24:00") == BusinessHours.TimeOfDay(hour: 24, minute: 0))
        for bad in ["9:30", "24:30", "12:60", "noon"] {
            #expect(throws: DecodingError.self) { try decode(bad) }
        }
    }
}
