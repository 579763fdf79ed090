import CRMSupport
import Foundation
import Scoring

/// crm's scoring engine on a file of orders, the input lifetimes reads: `customer_id,date,amount` lines (a header
/// line, dates as YYYY-MM-DD, every order a purchase), in any order.
///
/// It does what a full rescoring does between reading PostgreSQL and writing it, on the same orders lifetimes
/// summarises: every customer's activity as of the end of the as-of day (`ActivityBuilder`: same-day purchases
/// one transaction, the first not a repeat), the BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma fits, every
/// customer's predictions by each purchase model (as lifetimes' script makes them), and the base's RFM quintiles
/// and tier cut-offs. Times each phase as lifetimes' script does, and each purchase model's fit + prediction.
struct OrderCSVEngine {
    /// The phases and their seconds, and the fitted model.
    struct Run {
        var phases: [(name: String, seconds: Double)]
        var model: ScoringModel
        var customers: Int
        var orders: Int
        /// Per purchase model, the seconds of its fit (its share of the compression included) and predictions.
        var modelSeconds: [PurchaseModelKind: Double]
        var seconds: Double { phases.reduce(0) { $0 + $1.seconds } }
    }

    let settings: ScoringConfiguration
    /// The purchase models fitted and predicted with.
    var kinds = PurchaseModelKind.allCases

    func run(path: String, asOf: Date) throws -> Run {
        var clock = PhaseClock()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        clock.lap("read")

        let asOfDay = Int32((asOf.timeIntervalSince1970 / 86_400).rounded(.down))
        let orders = try bytes.withUnsafeBytes { try Self.group(Self.parse($0, asOfDay: asOfDay)) }
        let settings = self.settings
        let activities = ParallelChunks.map(count: orders.customers, chunk: 4_096) { chunk in
            var builder = ActivityBuilder(asOf: asOf, settings: settings)
            return chunk.map { customer in
                for order in orders.offsets[customer]..<orders.offsets[customer + 1] {
                    builder.add(
                        time: Double(orders.days[order]) * 86_400,
                        isPurchase: true,
                        amount: orders.amounts[order],
                        cost: nil
                    )
                }
                return builder.finish()
            }
        }.flatMap { $0 }
        clock.lap("summary")

        var model = try FullRescoring.fit(activities, settings: settings, asOf: asOf, kinds: kinds)
        clock.lap("fit")

        // Every model's predictions, as lifetimes' script makes them; the selected model's are the scores'.
        var modelSeconds: [PurchaseModelKind: Double] = [:]
        let sample = model.statistics["seconds.fit.sample"] ?? 0
        var predictions: [CustomerPredictions] = []
        for kind in kinds {
            var selected = model
            selected.selection = PurchaseModelSelection(
                setting: .auto,
                selected: kind,
                basis: .configured,
                reason: "benchmark"
            )
            let start = ContinuousClock.now
            let made = FullRescoring.predict(activities, model: selected)
            let fit = model.statistics["seconds.fit.\(kind.rawValue)"] ?? 0
            modelSeconds[kind] = fit + sample / Double(kinds.count) + (ContinuousClock.now - start).seconds
            if kind == model.selected { predictions = made }
        }
        FullRescoring.calibrate(&model, activities: activities, predictions: predictions)
        clock.lap("predict")
        return Run(
            phases: clock.phases,
            model: model,
            customers: orders.customers,
            orders: orders.days.count,
            modelSeconds: modelSeconds
        )
    }

    // MARK: - Parsing and grouping

    /// The orders of one stretch of the file: its customers by first appearance, each order naming one of them.
    private struct Piece: Sendable {
        var customers: [String] = []
        var customerOfOrder: [Int32] = []
        var days: [Int32] = []
        var amounts: [Double] = []
    }

    /// The orders grouped by customer: customer `c`'s are `offsets[c]..<offsets[c + 1]`, in file order.
    private struct Grouped: Sendable {
        var customers: Int
        var offsets: [Int]
        var days: [Int32]
        var amounts: [Double]
    }

    /// Parses the file in stretches cut at line ends, one per chunk of work, concurrently.
    private static func parse(_ file: UnsafeRawBufferPointer, asOfDay: Int32) throws -> [Piece] {
        var cuts = [file.firstIndex(of: 10).map { $0 + 1 } ?? file.count]  // after the header line
        let stretch = max(file.count / 64, 1 << 20)
        while let last = cuts.last, last < file.count {
            var cut = min(last + stretch, file.count)
            while cut < file.count, file[cut - 1] != 10 { cut += 1 }
            cuts.append(cut)
        }
        let shared = SharedBytes(file)
        let stretches = cuts
        let pieces = ParallelChunks.map(count: cuts.count - 1, chunk: 1) { range in
            parsePiece(
                shared.bytes,
                from: stretches[range.lowerBound],
                to: stretches[range.lowerBound + 1],
                asOfDay: asOfDay
            )
        }
        if let failure = pieces.first(where: { $0.failure != nil })?.failure { throw failure }
        return pieces.map(\.piece)
    }

    private struct SharedBytes: @unchecked Sendable {
        let bytes: UnsafeRawBufferPointer
        init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
    }

    struct FormatError: Error, CustomStringConvertible {
        var description: String
    }

    private static func parsePiece(
        _ file: UnsafeRawBufferPointer,
        from start: Int,
        to end: Int,
        asOfDay: Int32
    ) -> (piece: Piece, failure: FormatError?) {
        var piece = Piece()
        var index: [String: Int32] = [:]
        var previous = (start: 0, count: -1, customer: Int32(0))
        var position = start
        while position < end {
            var lineEnd = position
            while lineEnd < end, file[lineEnd] != 10 { lineEnd += 1 }
            defer { position = lineEnd + 1 }
            guard lineEnd > position else { continue }
            guard let comma = (position..<lineEnd).first(where: { file[$0] == 44 }),
                comma + 12 <= lineEnd, file[comma + 11] == 44,
                let day = day(file, at: comma + 1),
                let amount = decimal(file, from: comma + 12, to: lineEnd)
            else {
                let line = String(decoding: UnsafeRawBufferPointer(rebasing: file[position..<lineEnd]), as: UTF8.self)
                return (piece, FormatError(description: "not an order line (customer_id,YYYY-MM-DD,amount): \(line)"))
            }
            guard day <= asOfDay else { continue }
            // Orders usually come grouped by customer: the previous line's customer is checked before the index.
            let customer: Int32
            if comma - position == previous.count,
                memcmp(file.baseAddress! + position, file.baseAddress! + previous.start, previous.count) == 0
            {
                customer = previous.customer
            } else {
                let id = String(decoding: UnsafeRawBufferPointer(rebasing: file[position..<comma]), as: UTF8.self)
                if let known = index[id] {
                    customer = known
                } else {
                    customer = Int32(piece.customers.count)
                    index[id] = customer
                    piece.customers.append(id)
                }
                previous = (position, comma - position, customer)
            }
            piece.customerOfOrder.append(customer)
            piece.days.append(day)
            piece.amounts.append(amount)
        }
        return (piece, nil)
    }

    /// Days since 1970-01-01 of the YYYY-MM-DD at `at` (the proleptic Gregorian calendar, as PostgreSQL's).
    private static func day(_ file: UnsafeRawBufferPointer, at: Int) -> Int32? {
        func digits(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for i in from..<from + count {
                let digit = Int(file[i]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard file[at + 4] == 45, file[at + 7] == 45, let year = digits(at, 4), let month = digits(at + 5, 2),
            let dayOfMonth = digits(at + 8, 2), (1...12).contains(month), (1...31).contains(dayOfMonth)
        else { return nil }
        // Days from civil (H. Hinnant): years start in March so the leap day ends them.
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + dayOfMonth - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return Int32(era * 146_097 + dayOfEra - 719_468)
    }

    /// A plain decimal (optional sign, digits, optional fraction) as the nearest double: the digits as an integer
    /// divided by a power of ten, both exact, so the one rounding is the division's.
    private static func decimal(_ file: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Double? {
        var position = start
        var negative = false
        if position < end, file[position] == 45 || file[position] == 43 {
            negative = file[position] == 45
            position += 1
        }
        var mantissa: Int64 = 0
        var digits = 0
        var fraction = -1
        while position < end {
            let byte = file[position]
            if byte == 46, fraction < 0 {
                fraction = 0
            } else if byte >= 48, byte <= 57 {
                guard digits < 17 else { return nil }
                mantissa = mantissa * 10 + Int64(byte - 48)
                digits += 1
                if fraction >= 0 { fraction += 1 }
            } else {
                return nil
            }
            position += 1
        }
        guard digits > 0 else { return nil }
        let value = Double(mantissa) / Self.powersOfTen[max(fraction, 0)]
        return negative ? -value : value
    }

    private static let powersOfTen = (0...17).map { pow(10, Double($0)) }

    /// One numbering of the customers over all pieces, then a counting sort of the orders by customer.
    private static func group(_ pieces: [Piece]) -> Grouped {
        var numbers: [String: Int32] = [:]
        var global: [[Int32]] = []
        for piece in pieces {
            global.append(
                piece.customers.map { id in
                    if let known = numbers[id] { return known }
                    let number = Int32(numbers.count)
                    numbers[id] = number
                    return number
                }
            )
        }
        let customers = numbers.count
        var offsets = [Int](repeating: 0, count: customers + 1)
        for (piece, map) in zip(pieces, global) {
            for local in piece.customerOfOrder { offsets[Int(map[Int(local)]) + 1] += 1 }
        }
        for customer in 0..<customers { offsets[customer + 1] += offsets[customer] }
        var next = offsets
        var days = [Int32](repeating: 0, count: offsets[customers])
        var amounts = [Double](repeating: 0, count: offsets[customers])
        for (piece, map) in zip(pieces, global) {
            for (order, local) in piece.customerOfOrder.enumerated() {
                let customer = Int(map[Int(local)])
                days[next[customer]] = piece.days[order]
                amounts[next[customer]] = piece.amounts[order]
                next[customer] += 1
            }
        }
        return Grouped(customers: customers, offsets: offsets, days: days, amounts: amounts)
    }
}
