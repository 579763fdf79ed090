import CRMContract
import Foundation
import Glibc

/// The customers of a full rescoring between its read and its write, in a file rather than in memory: the read
/// appends every customer as it streams past, the write reads them back a chunk at a time. So the rescoring's
/// memory holds one chunk and the few figures per customer the base-wide cut-offs need, however large the base.
///
/// The file is made in `directory` (`CRM_SCORING_SPILL_DIR`, the temporary directory by default) and unlinked at
/// once: nothing is left behind when the process ends, however it ends, and no other process can open it. About
/// 200 bytes a customer (2 GB at ten million), written and read sequentially.
struct ScoringSpill: Sendable {
    /// The open, unlinked file.
    private let descriptor: Int32
    /// Customers written.
    private(set) var count = 0
    /// Bytes written.
    private(set) var bytes = 0
    private var buffer: [UInt8] = []
    private static let bufferSize = 1 << 20

    /// Makes the file in `directory`.
    init(directory: String) throws {
        var template = Array((directory.hasSuffix("/") ? directory : directory + "/").utf8CString.dropLast())
        template += Array("crm-rescoring-XXXXXX".utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else {
            throw ScoringError(
                .spillFailed,
                "cannot make the rescoring's spill file in \(directory): \(String(cString: strerror(errno)))"
            )
        }
        unlink(template)
        self.descriptor = descriptor
        buffer.reserveCapacity(Self.bufferSize + 4_096)
    }

    /// Appends one customer.
    mutating func append(_ entry: ScoringEntry) throws {
        let start = buffer.count
        buffer.append(contentsOf: [0, 0, 0, 0])
        SpillRecord.encode(entry, into: &buffer)
        let length = UInt32(buffer.count - start - 4)
        withUnsafeBytes(of: length.littleEndian) { bytes in
            for (offset, byte) in bytes.enumerated() { buffer[start + offset] = byte }
        }
        count += 1
        if buffer.count >= Self.bufferSize { try flush() }
    }

    /// Writes what is buffered.
    private mutating func flush() throws {
        var written = 0
        while written < buffer.count {
            let result = buffer.withUnsafeBytes { bytes in
                write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            }
            guard result > 0 else {
                if result < 0, errno == EINTR { continue }
                throw ScoringError(
                    .spillFailed,
                    "cannot write the rescoring's spill file: \(String(cString: strerror(errno)))"
                )
            }
            written += result
        }
        bytes += written
        buffer.removeAll(keepingCapacity: true)
    }

    /// Finishes writing; the customers can then be read back from the start with ``reader()``.
    mutating func finishWriting() throws {
        try flush()
    }

    /// A reader of every customer written, from the first.
    func reader() throws -> Reader {
        guard lseek(descriptor, 0, SEEK_SET) == 0 else {
            throw ScoringError(
                .spillFailed,
                "cannot rewind the rescoring's spill file: \(String(cString: strerror(errno)))"
            )
        }
        return Reader(descriptor: descriptor, remaining: count)
    }

    /// Closes (and so removes) the file.
    func close() {
        _ = Glibc.close(descriptor)
    }

    /// Reads the customers back in the order written.
    struct Reader {
        fileprivate let descriptor: Int32
        fileprivate var remaining: Int
        private var buffer: [UInt8] = []
        private var position = 0

        fileprivate init(descriptor: Int32, remaining: Int) {
            self.descriptor = descriptor
            self.remaining = remaining
        }

        /// Up to `count` next customers; empty at the end.
        mutating func next(_ count: Int) throws -> [ScoringEntry] {
            var entries: [ScoringEntry] = []
            entries.reserveCapacity(min(count, remaining))
            while entries.count < count, remaining > 0 {
                try fill(4)
                let length = buffer.withUnsafeBytes { bytes in
                    Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
                }
                position += 4
                try fill(length)
                let entry = try buffer.withUnsafeBytes { bytes in
                    var decoder = SpillRecord.Decoder(
                        bytes: UnsafeRawBufferPointer(rebasing: bytes[position..<position + length])
                    )
                    return try SpillRecord.decode(&decoder)
                }
                position += length
                remaining -= 1
                entries.append(entry)
            }
            return entries
        }

        /// Makes sure `needed` unread bytes are in the buffer.
        private mutating func fill(_ needed: Int) throws {
            guard buffer.count - position < needed else { return }
            buffer.removeSubrange(0..<position)
            position = 0
            let wanted = max(needed, ScoringSpill.bufferSize)
            while buffer.count < needed {
                let start = buffer.count
                buffer.append(contentsOf: repeatElement(0, count: wanted - start))
                let read = buffer.withUnsafeMutableBytes { bytes in
                    Glibc.read(descriptor, bytes.baseAddress! + start, wanted - start)
                }
                if read < 0, errno == EINTR {
                    buffer.removeSubrange(start...)
                    continue
                }
                guard read > 0 else {
                    throw ScoringError(.spillFailed, "the rescoring's spill file ended early")
                }
                buffer.removeSubrange((start + read)...)
            }
        }
    }
}

/// The binary form of one ``ScoringEntry`` in a ``ScoringSpill``: fixed-width numbers in little-endian byte order,
/// a flag byte before every optional, texts with their length. Dates keep their reference-date seconds, so every
/// figure reads back bit for bit.
enum SpillRecord {
    private static let stages = LifecycleStage.allCases
    private static let tiers = ValueTier.allCases

    static func encode(_ entry: ScoringEntry, into bytes: inout [UInt8]) {
        text(entry.customerID, &bytes)
        if let previous = entry.previous {
            bytes.append(1)
            bytes.append(UInt8(stages.firstIndex(of: previous.stage)!))
            bytes.append(UInt8(tiers.firstIndex(of: previous.tier)!))
            number(previous.pAlive, &bytes)
            number(previous.lastPurchaseAt?.timeIntervalSinceReferenceDate, &bytes)
            text(previous.grid, &bytes)
            number(previous.scoredAt.timeIntervalSinceReferenceDate, &bytes)
            integer(previous.figuresDigest.map(Int.init), &bytes)
            number(previous.expectedPurchases90d, &bytes)
            number(previous.clvSimple, &bytes)
            number(previous.clvPredicted, &bytes)
        } else {
            bytes.append(0)
        }
        if let rescored = entry.rescored {
            bytes.append(1)
            bytes.append(UInt8(tiers.firstIndex(of: rescored.tier)!))
            bytes.append(UInt8(stages.firstIndex(of: rescored.stage)!))
        } else {
            bytes.append(0)
        }
        let activity = entry.activity
        integer(activity.orderCount, &bytes)
        integer(activity.transactions, &bytes)
        number(activity.firstPurchaseAt?.timeIntervalSinceReferenceDate, &bytes)
        number(activity.lastPurchaseAt?.timeIntervalSinceReferenceDate, &bytes)
        number(activity.netRevenue, &bytes)
        number(activity.netValue, &bytes)
        number(activity.marginRate, &bytes)
        if let summary = activity.summary {
            bytes.append(1)
            integer(summary.frequency, &bytes)
            number(summary.recency, &bytes)
            number(summary.age, &bytes)
            number(summary.monetaryValue, &bytes)
        } else {
            bytes.append(0)
        }
        for window in [activity.recent, activity.earlier] {
            number(window.days, &bytes)
            integer(window.purchases, &bytes)
            number(window.spend, &bytes)
        }
        number(activity.expectedIntervalDays, &bytes)
    }

    private static func integer(_ value: Int, _ bytes: inout [UInt8]) {
        withUnsafeBytes(of: Int64(value).littleEndian) { bytes.append(contentsOf: $0) }
    }

    private static func integer(_ value: Int?, _ bytes: inout [UInt8]) {
        guard let value else { return bytes.append(0) }
        bytes.append(1)
        integer(value, &bytes)
    }

    private static func number(_ value: Double, _ bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private static func number(_ value: Double?, _ bytes: inout [UInt8]) {
        guard let value else { return bytes.append(0) }
        bytes.append(1)
        number(value, &bytes)
    }

    private static func text(_ value: String?, _ bytes: inout [UInt8]) {
        guard let value else { return bytes.append(0) }
        bytes.append(1)
        withUnsafeBytes(of: UInt32(value.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: value.utf8)
    }

    static func decode(_ decoder: inout Decoder) throws -> ScoringEntry {
        var entry = ScoringEntry(customerID: try decoder.text() ?? "")
        if try decoder.byte() == 1 {
            let stage = stages[Int(try decoder.byte())]
            let tier = tiers[Int(try decoder.byte())]
            entry.previous = PreviousScore(
                stage: stage,
                tier: tier,
                pAlive: try decoder.optionalNumber(),
                lastPurchaseAt: try decoder.optionalNumber().map(Date.init(timeIntervalSinceReferenceDate:)),
                grid: try decoder.text(),
                scoredAt: Date(timeIntervalSinceReferenceDate: try decoder.number()),
                figuresDigest: try decoder.optionalInteger().map(Int64.init),
                expectedPurchases90d: try decoder.optionalNumber(),
                clvSimple: try decoder.optionalNumber(),
                clvPredicted: try decoder.optionalNumber()
            )
        }
        if try decoder.byte() == 1 {
            let tier = tiers[Int(try decoder.byte())]
            entry.rescored = (tier, stages[Int(try decoder.byte())])
        }
        var activity = CustomerActivity()
        activity.orderCount = try decoder.integer()
        activity.transactions = try decoder.integer()
        activity.firstPurchaseAt = try decoder.optionalNumber().map(Date.init(timeIntervalSinceReferenceDate:))
        activity.lastPurchaseAt = try decoder.optionalNumber().map(Date.init(timeIntervalSinceReferenceDate:))
        activity.netRevenue = try decoder.number()
        activity.netValue = try decoder.number()
        activity.marginRate = try decoder.optionalNumber()
        if try decoder.byte() == 1 {
            activity.summary = TransactionSummary(
                frequency: try decoder.integer(),
                recency: try decoder.number(),
                age: try decoder.number(),
                monetaryValue: try decoder.number()
            )
        }
        activity.recent = ActivityWindow(
            days: try decoder.number(),
            purchases: try decoder.integer(),
            spend: try decoder.number()
        )
        activity.earlier = ActivityWindow(
            days: try decoder.number(),
            purchases: try decoder.integer(),
            spend: try decoder.number()
        )
        activity.expectedIntervalDays = try decoder.optionalNumber()
        entry.activity = activity
        return entry
    }

    struct Decoder {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        private mutating func take(_ count: Int) throws -> UnsafeRawBufferPointer {
            guard position + count <= bytes.count else {
                throw ScoringError(.spillFailed, "a record of the rescoring's spill file is cut short")
            }
            defer { position += count }
            return UnsafeRawBufferPointer(rebasing: bytes[position..<position + count])
        }

        mutating func byte() throws -> UInt8 { try take(1)[0] }

        mutating func integer() throws -> Int {
            Int(Int64(littleEndian: try take(8).loadUnaligned(as: Int64.self)))
        }

        mutating func number() throws -> Double {
            Double(bitPattern: UInt64(littleEndian: try take(8).loadUnaligned(as: UInt64.self)))
        }

        mutating func optionalInteger() throws -> Int? {
            try byte() == 1 ? try integer() : nil
        }

        mutating func optionalNumber() throws -> Double? {
            try byte() == 1 ? try number() : nil
        }

        mutating func text() throws -> String? {
            guard try byte() == 1 else { return nil }
            let count = Int(UInt32(littleEndian: try take(4).loadUnaligned(as: UInt32.self)))
            return String(decoding: try take(count), as: UTF8.self)
        }
    }
}
