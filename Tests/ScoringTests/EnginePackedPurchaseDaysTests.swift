import Foundation
import Testing

@testable import Scoring

/// Reading `customer_activity.purchase_days`: 12 bytes a day, the day and its value in ten-thousandths, big-endian.
@Suite struct EnginePackedPurchaseDaysTests {
    /// The bytes PostgreSQL's `int4send(day) || int8send(units)` gives for each entry.
    static func packed(_ entries: [(day: Int32, units: Int64)]) -> [UInt8] {
        var bytes: [UInt8] = []
        for entry in entries {
            withUnsafeBytes(of: entry.day.bigEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: entry.units.bigEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> [(day: Int, value: Double)] {
        var purchases: [(day: Int, value: Double)] = []
        try bytes.withUnsafeBytes { try PackedPurchaseDays.decode($0, into: &purchases) }
        return purchases
    }

    @Test func readsEachDayAndItsValue() throws {
        let days = try Self.decode(Self.packed([(9_862, 117_700), (9_950, 0), (10_180, -45_000), (10_190, 1)]))
        #expect(days.map(\.day) == [9_862, 9_950, 10_180, 10_190])
        #expect(days.map(\.value) == [11.77, 0, -4.5, 0.0001])
        #expect(try Self.decode([]).isEmpty)
    }

    /// A day's value is the double nearest to its decimal, as reading the `numeric` itself gives: checked against
    /// Swift's own (correctly rounded) reading of the decimal text, on both sides of 2^53 ten-thousandths.
    @Test func valuesAreTheDoublesNearestTheirDecimals() {
        var generator = SystemRandomNumberGenerator()
        let edges: [Int64] = [0, 1, -1, 9_999, 10_000, (1 << 53) - 1, 1 << 53, (1 << 53) + 1, .max, .min + 1]
        let random = (0..<2_000).map { index in
            let range: ClosedRange<Int64> = index.isMultiple(of: 2) ? -(1 << 60)...(1 << 60) : -10_000_000...10_000_000
            return Int64.random(in: range, using: &generator)
        }
        for units in edges + random {
            let whole = units.magnitude / 10_000
            let fraction = String(units.magnitude % 10_000)
            let padding = String(repeating: "0", count: 4 - fraction.count)
            let decimal = "\(units < 0 ? "-" : "")\(whole).\(padding)\(fraction)"
            #expect(PackedPurchaseDays.value(units) == Double(decimal), "\(decimal)")
        }
    }

    /// A day beyond 64 bits of ten-thousandths comes in consecutive entries; they add up, past 64 bits too.
    @Test func addsUpTheEntriesOfOneDay() throws {
        let piece: Int64 = 6_999_999_999_999_999_999
        let days = try Self.decode(
            Self.packed([(20_000, 5), (20_473, piece), (20_473, piece), (20_473, 3), (20_480, 7)])
        )
        #expect(days.map(\.day) == [20_000, 20_473, 20_480])
        #expect(days[1].value == 2 * Double(piece) / 10_000)
        #expect(days[2].value == 0.0007)
        // Pieces that fit 64 bits together are added as integers: exactly.
        let exact = try Self.decode(Self.packed([(1, 4_000_000_000_000_000_001), (1, -3_999_999_999_999_999_999)]))
        #expect(exact.map(\.value) == [0.0002])
    }

    /// No row the triggers keep is out of order, but one that were would be sorted and its days added up.
    @Test func sortsDaysOutOfOrder() throws {
        let days = try Self.decode(Self.packed([(30, 10_000), (10, 20_000), (30, 5_000), (20, 1)]))
        #expect(days.map(\.day) == [10, 20, 30])
        #expect(days.map(\.value) == [2, 0.0001, 1.5])
    }

    @Test func refusesBytesThatAreNotWholeDays() {
        #expect(throws: ScoringError.self) { try Self.decode(Array(Self.packed([(1, 1)]).dropLast())) }
    }
}
