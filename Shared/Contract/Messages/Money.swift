import CRMSupport
import Foundation

/// An exact, non-negative amount of money with at most four fractional digits, such as `129.90`.
///
/// Wraps Foundation's `Decimal`, so `0.1 + 0.2` is `0.3`. Comparison and hashing go by value: `129.9 == 129.90`.
/// The amount carries no currency; a message pairs it with a ``CurrencyCode``.
///
/// Encoded as a JSON string with two to four fractional digits (`"129.90"`, `"0.0001"`, `"5.00"`), whatever scale it
/// was sent with: the scale of the input is not information worth keeping, and a value-based form lets two senders
/// that write the same amount differently produce the same canonical JSON.
public struct Money: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The most fractional digits an amount may have.
    public static let maximumFractionDigits = 4

    /// The largest amount accepted: 15 integer digits, what a PostgreSQL `numeric(19,4)` column holds.
    public static let maximum = Money(unchecked: Decimal(string: "999999999999999.9999") ?? .zero)

    /// Zero.
    public static let zero = Money(unchecked: .zero)

    /// The amount.
    public let decimal: Decimal
    /// ``description``, when the amount was read from text and the text gave it for free; otherwise `nil` and worked
    /// out from `decimal`, which costs more than the rest of decoding an order's amount.
    private let knownDescription: String?

    private init(unchecked decimal: Decimal) {
        self.decimal = decimal
        self.knownDescription = nil
    }

    /// Creates an amount from a decimal, refusing negatives, NaN, more than four fractional digits and huge values.
    public init(_ decimal: Decimal) throws(MessageRejection) {
        guard decimal.isFinite else { throw Self.rejection(.invalidValue, "not a number") }
        guard decimal >= .zero else { throw Self.rejection(.invalidValue, "negative") }
        guard decimal.rounded(scale: Self.maximumFractionDigits) == decimal else {
            throw Self.rejection(.invalidValue, "more than \(Self.maximumFractionDigits) fractional digits")
        }
        guard decimal <= Self.maximum.decimal else {
            throw Self.rejection(.invalidValue, "larger than \(Self.maximum)")
        }
        self.decimal = decimal
        self.knownDescription = nil
    }

    /// Parses a plain decimal string: digits, optionally a dot and more digits (`"129.90"`, `"0"`, `"0.0001"`).
    ///
    /// No sign other than a leading minus (refused as negative unless the value is zero), no exponent, no grouping,
    /// no decimal comma, no white space: `"12,5"` is refused rather than read as `12`, which `Decimal(string:)` does.
    public init(_ text: String) throws(MessageRejection) {
        var text = text
        let parsed = text.withUTF8 { Self.parse($0) }
        switch parsed {
        case .failure(let rejection): throw rejection
        case .success(let (decimal, description)):
            // The parse has checked everything `init(_:)` checks: a sign only on zero, at most four significant
            // fractional digits, at most 15 integer digits.
            self.decimal = decimal
            self.knownDescription = description
        }
    }

    /// Reads the digits once: the value straight from them (at most 19 significant digits, so a `UInt64` mantissa
    /// holds it exactly), and the description too, with the significant fraction padded to two digits.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<(Decimal, String), MessageRejection> {
        let zero = UInt8(ascii: "0")
        let negative = bytes.first == UInt8(ascii: "-")
        let body = UnsafeBufferPointer(rebasing: bytes[(negative ? 1 : 0)...])
        let dot = body.firstIndex(of: UInt8(ascii: "."))
        let integer = UnsafeBufferPointer(rebasing: body[..<(dot ?? body.endIndex)])
        let fraction = dot.map { UnsafeBufferPointer(rebasing: body[($0 + 1)...]) }
        func isDigits(_ part: UnsafeBufferPointer<UInt8>) -> Bool {
            !part.isEmpty && part.allSatisfy { $0 >= zero && $0 <= UInt8(ascii: "9") }
        }
        guard isDigits(integer), fraction.map(isDigits) ?? true, integer.count == 1 || integer.first != zero else {
            return .failure(rejection(.invalidValue, "not a decimal number like \"129.90\""))
        }
        // Trailing zeros carry no value: "1.50000" is 1.5.
        var significant = fraction?.count ?? 0
        while significant > 0, fraction![significant - 1] == zero { significant -= 1 }
        let isZero = integer.count == 1 && integer[0] == zero && significant == 0
        guard !negative || isZero else { return .failure(rejection(.invalidValue, "negative")) }
        guard significant <= maximumFractionDigits else {
            return .failure(rejection(.invalidValue, "more than \(maximumFractionDigits) fractional digits"))
        }
        guard integer.count <= 15 else { return .failure(rejection(.invalidValue, "larger than \(maximum)")) }
        var mantissa: UInt64 = 0
        var description: [UInt8] = []
        description.reserveCapacity(integer.count + 5)
        for digit in integer {
            mantissa = mantissa * 10 + UInt64(digit - zero)
            description.append(digit)
        }
        description.append(UInt8(ascii: "."))
        if let fraction {
            for digit in fraction[..<significant] {
                mantissa = mantissa * 10 + UInt64(digit - zero)
                description.append(digit)
            }
        }
        if significant < 2 { description.append(contentsOf: repeatElement(zero, count: 2 - significant)) }
        let decimal = Decimal(sign: .plus, exponent: -significant, significand: Decimal(mantissa))
        return .success((decimal, String(decoding: description, as: UTF8.self)))
    }

    /// The amount with two to four fractional digits, e.g. `129.90`; what the JSON encoding holds.
    public var description: String {
        if let knownDescription { return knownDescription }
        return Self.description(of: decimal)
    }

    /// ``description`` worked out from the value alone.
    static func description(of decimal: Decimal) -> String {
        // Scaled by 10^4 the amount is a whole number, whose Decimal description is plain digits.
        var digits = Array((decimal * 10_000).description.utf8)
        if digits.count < 5 {
            digits.insert(contentsOf: repeatElement(UInt8(ascii: "0"), count: 5 - digits.count), at: 0)
        }
        var fraction = digits.suffix(4)
        while fraction.count > 2, fraction.last == UInt8(ascii: "0") { fraction.removeLast() }
        return String(decoding: digits.dropLast(4), as: UTF8.self) + "." + String(decoding: fraction, as: UTF8.self)
    }

    /// Orders by value.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.decimal < rhs.decimal }

    /// Compares by value: `129.9 == 129.90`.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.decimal == rhs.decimal }

    /// Hashes the value's one textual form, consistently with ``==(_:_:)`` whatever scale `Decimal` kept.
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }

    private static func rejection(_ code: MessageRejection.Code, _ problem: String) -> MessageRejection {
        MessageRejection(code, field: "", problem)
    }
}

// MARK: - JSON

extension Money {
    /// Decodes a decimal string (`"129.90"`) or a JSON number (`129.90`).
    ///
    /// A JSON number is never read through `Double`. Foundation's `JSONDecoder` (swift-foundation, Swift 6) builds a
    /// `Decimal` from the number's digits, so `0.1` arrives as exactly 0.1; the tests pin that behaviour. What it
    /// would do silently, truncating past 38 significant digits, `JSONBodyScanner` refuses before it gets here.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        var field: String { FieldPath.render(decoder.codingPath) }  // rendered only for a rejection
        guard !container.decodeNil() else {
            throw MessageRejection(.missingField, field: field, "must not be null")
        }
        do throws(MessageRejection) {
            if let text = try? container.decode(String.self) {
                try self.init(text)
            } else if let number = try? container.decode(Decimal.self) {
                try self.init(number)
            } else {
                throw MessageRejection(.wrongType, field: "", "expected a decimal string or number")
            }
        } catch {
            throw error.located(at: decoder.codingPath)
        }
    }

    /// Encodes the amount as a decimal string with two to four fractional digits.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
