import Foundation

/// Reads `customer_activity.purchase_days`: each purchase day and the value of its purchases, packed by PostgreSQL
/// into one `bytea` (`Schema.packedPurchaseDays`).
///
/// Each day is 12 bytes, big-endian: the day (32 bits, days since 1970, UTC) and its value in ten-thousandths (64
/// bits, exact for money with four decimals), ascending by day. A day whose value does not fit 64 bits of
/// ten-thousandths comes as consecutive entries that add up to it. Days out of order or repeated apart (no row the
/// triggers keep has them) are sorted and added up here rather than refused.
enum PackedPurchaseDays {
    /// Bytes a day takes.
    static let entrySize = 12

    /// Appends the days of `packed` to `purchases`, each with its value (the days ascending, each once).
    static func decode(
        _ packed: UnsafeRawBufferPointer,
        into purchases: inout [(day: Int, value: Double)]
    )
        throws(ScoringError)
    {
        guard packed.count % entrySize == 0 else {
            throw ScoringError(.unreadableRow, "packed purchase days of \(packed.count) bytes, not 12 a day")
        }
        let start = purchases.count
        var inOrder = true
        var offset = 0
        func dayAt(_ offset: Int) -> Int {
            Int(Int32(bigEndian: packed.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
        }
        func unitsAt(_ offset: Int) -> Int64 {
            Int64(bigEndian: packed.loadUnaligned(fromByteOffset: offset + 4, as: Int64.self))
        }
        while offset < packed.count {
            let day = dayAt(offset)
            var sum = unitsAt(offset)
            offset += entrySize
            var wide: Double?  // the day's value once its ten-thousandths overflow 64 bits
            while offset < packed.count, dayAt(offset) == day {
                let more = unitsAt(offset)
                offset += entrySize
                if let total = wide {
                    wide = total + value(more)
                } else {
                    let (total, overflow) = sum.addingReportingOverflow(more)
                    if overflow { wide = value(sum) + value(more) } else { sum = total }
                }
            }
            if purchases.count > start, let last = purchases.last, day <= last.day { inOrder = false }
            purchases.append((day, wide ?? value(sum)))
        }
        if !inOrder { mergeInOrder(&purchases, from: start) }
    }

    /// The money `units` ten-thousandths make, as the double nearest to it (what reading the same `numeric` gives).
    static func value(_ units: Int64) -> Double {
        // Exact below 2^53, and one correctly rounded division then; beyond, through the decimal text.
        if units.magnitude < 1 << 53 { return Double(units) / 10_000 }
        let fraction = String(units.magnitude % 10_000)
        let padding = String(repeating: "0", count: 4 - fraction.count)
        let text = "\(units < 0 ? "-" : "")\(units.magnitude / 10_000).\(padding)\(fraction)"
        return Double(text) ?? Double(units) / 10_000
    }

    /// Sorts the days from `start` on and adds up the values of each day's entries.
    private static func mergeInOrder(_ purchases: inout [(day: Int, value: Double)], from start: Int) {
        let sorted = purchases[start...].sorted { $0.day < $1.day }
        purchases.removeSubrange(start...)
        for purchase in sorted {
            if purchases.count > start, purchases.last?.day == purchase.day {
                purchases[purchases.count - 1].value += purchase.value
            } else {
                purchases.append(purchase)
            }
        }
    }
}
