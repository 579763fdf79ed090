import CRMContract
import Foundation

/// Reads a file of orders for `crm load-orders`: order.v1 JSON lines, or the CDNOW purchase format.
///
/// JSON lines are published as they are, so intake validates them exactly as it does any upstream
/// message. CDNOW lines (`customer date(YYYYMMDD) cds dollars`, or the sample's five columns with a
/// sample id second) become order.v1 messages in USD with deterministic ids
/// (`cdnow-<customer>-<date>-<line>`), so loading a file twice stores each purchase once.
public enum OrderFile {
    /// The format of a file, told from its first non-empty line.
    public enum Format: String, Sendable {
        case jsonLines = "json"
        case cdnow
    }

    /// Every order message body in the file, in file order.
    public static func bodies(of url: URL) throws -> (format: Format, bodies: [Data]) {
        let text = try String(contentsOf: url, encoding: .utf8)
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = lines.first(where: { !$0.isEmpty }) else { return (.jsonLines, []) }
        if first.hasPrefix("{") {
            return (.jsonLines, lines.filter { !$0.isEmpty }.map { Data($0.utf8) })
        }
        var bodies: [Data] = []
        for (number, line) in lines.enumerated() where !line.isEmpty {
            guard let order = try cdnowOrder(line, lineNumber: number + 1) else { continue }
            bodies.append(try order.encodedBody())
        }
        return (.cdnow, bodies)
    }

    /// One CDNOW line as an order; `nil` for the header line.
    public static func cdnowOrder(_ line: String, lineNumber: Int) throws -> OrderMessage? {
        let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 4 || fields.count == 5, let customer = fields.first, customer.allSatisfy(\.isNumber)
        else {
            if lineNumber == 1 { return nil }
            throw OrderFileError(line: lineNumber, problem: "expected `customer date cds dollars`")
        }
        let rest = fields.suffix(3)
        let date = rest[rest.startIndex]
        let dollars = rest[rest.startIndex + 2]
        guard date.count == 8, date.allSatisfy(\.isNumber) else {
            throw OrderFileError(line: lineNumber, problem: "date must be YYYYMMDD")
        }
        let day = "\(date.prefix(4))-\(date.dropFirst(4).prefix(2))-\(date.suffix(2))T00:00:00Z"
        do {
            return OrderMessage(
                orderID: try Identifier("cdnow-\(customer)-\(date)-\(lineNumber)"),
                customerID: try Identifier(customer),
                occurredAt: try Timestamp(rfc3339: day),
                amount: try Money(dollars),
                currency: try CurrencyCode("USD"),
                channel: "cdnow"
            )
        } catch {
            throw OrderFileError(line: lineNumber, problem: error.reason)
        }
    }
}

/// A line of an order file that cannot be read.
public struct OrderFileError: Error, CustomStringConvertible {
    public var line: Int
    public var problem: String
    public var description: String { "line \(line): \(problem)" }
}
