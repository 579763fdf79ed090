import CRMSupport
import Foundation

/// An instant from a message, to the millisecond: parsed from RFC 3339 with an offset, encoded in UTC.
///
/// The offset it was written in is not kept. Two writings of one instant (`10:15+08:00`, `02:15Z`) are the same
/// timestamp, as they are to PostgreSQL's `timestamptz`, and the canonical form of an order must not depend on the
/// sender's zone. Nothing downstream needs the sender's wall-clock time: desks work in their own zones.
///
/// Digits after the milliseconds are dropped (truncated), so a timestamp always survives its own encoding unchanged.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The instant, always a whole number of milliseconds since 1970.
    public let date: Date

    /// The earliest instant RFC 3339 can write, 0000-01-01T00:00:00.000Z, in milliseconds since 1970.
    public static let earliestMilliseconds: Int64 = -62_167_219_200_000
    /// The latest instant RFC 3339 can write, 9999-12-31T23:59:59.999Z, in milliseconds since 1970.
    public static let latestMilliseconds: Int64 = 253_402_300_799_999
    /// The earliest instant a message may carry, 1900-01-01T00:00:00Z: years 0000 and 0001 are valid RFC 3339, but
    /// PostgreSQL has no year 0 and no customer's order or complaint is that old.
    public static let earliestInMessages = Timestamp(millisecondsSince1970: -2_208_988_800_000)

    /// Creates a timestamp from a date, rounded to the nearest millisecond and clamped to years 0000–9999.
    public init(_ date: Date) {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        // Clamping in Double first keeps an infinite or NaN date from trapping in the conversion to Int64.
        let bounds = Double(Self.earliestMilliseconds)...Double(Self.latestMilliseconds)
        let clamped = milliseconds.isNaN ? 0 : min(max(milliseconds, bounds.lowerBound), bounds.upperBound)
        self.init(millisecondsSince1970: Int64(clamped))
    }

    /// Creates a timestamp from whole milliseconds since 1970-01-01T00:00:00Z, clamped to years 0000–9999.
    public init(millisecondsSince1970 milliseconds: Int64) {
        let clamped = min(max(milliseconds, Self.earliestMilliseconds), Self.latestMilliseconds)
        self.date = Date(timeIntervalSince1970: Double(clamped) / 1000)
    }

    /// Parses RFC 3339 with an offset: `2026-11-20T10:15:00+08:00`, `2026-11-21T09:00:00.250Z`.
    ///
    /// Refused: no offset, a space instead of `T`, a leap second (`:60`, which `Date` cannot hold), a day that
    /// does not exist (`02-30`). Lower-case `t` and `z` are accepted, as RFC 3339 allows.
    public init(rfc3339 text: String) throws(MessageRejection) {
        // An offset can carry 0000-01-01 or 9999-12-31 past what UTC can write; that is refused, not clamped.
        guard let milliseconds = RFC3339.parse(text),
            (Self.earliestMilliseconds...Self.latestMilliseconds).contains(milliseconds)
        else {
            let problem = RFC3339.isWellFormed(text) ? "not a valid date and time" : "not RFC 3339 with an offset"
            throw MessageRejection(.invalidValue, field: "", problem)
        }
        self.init(millisecondsSince1970: milliseconds)
    }

    /// Whole milliseconds since 1970-01-01T00:00:00Z.
    public var millisecondsSince1970: Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// The instant in RFC 3339, UTC, with milliseconds: `2026-11-20T02:15:00.000Z`.
    public var rfc3339: String { RFC3339.format(millisecondsSince1970) }

    /// Appends the RFC 3339 text (UTC, milliseconds) of an instant given in whole milliseconds since 1970 to `bytes`,
    /// without a `Timestamp` or a `String` in between: exports write one for every date of every row.
    public static func appendRFC3339(millisecondsSince1970 milliseconds: Int64, to bytes: inout [UInt8]) {
        RFC3339.append(min(max(milliseconds, earliestMilliseconds), latestMilliseconds), to: &bytes)
    }

    /// Appends ``rfc3339`` as a JSON string (it holds nothing to escape).
    func appendQuotedRFC3339(to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        RFC3339.append(millisecondsSince1970, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// The same as ``rfc3339``.
    public var description: String { rfc3339 }

    /// Orders by instant.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.date < rhs.date }

    /// Decodes an RFC 3339 string, refusing an instant before ``earliestInMessages``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        var field: String { FieldPath.render(decoder.codingPath) }  // rendered only for a rejection
        guard !container.decodeNil() else {
            throw MessageRejection(.missingField, field: field, "must not be null")
        }
        guard let text = try? container.decode(String.self) else {
            throw MessageRejection(.wrongType, field: field, "expected an RFC 3339 string with an offset")
        }
        do throws(MessageRejection) {
            try self.init(rfc3339: text)
            guard self >= Self.earliestInMessages else {
                throw MessageRejection(.invalidValue, field: "", "before 1900-01-01T00:00:00Z")
            }
        } catch {
            throw error.located(at: decoder.codingPath)
        }
    }

    /// Whether the instant lies further ahead of `now` than ``futureTolerance``: no order, complaint or status can
    /// have happened then, whatever the sender's clock says.
    public func isInTheFuture(of now: Date) -> Bool {
        date > now.addingTimeInterval(Self.futureTolerance)
    }

    /// How far a sender's clock may run ahead of the receiver's: a day.
    public static let futureTolerance: TimeInterval = 86_400

    /// The rejection of an instant past ``futureTolerance`` for `field`.
    public static func inTheFuture(field: String) -> MessageRejection {
        MessageRejection(.invalidValue, field: field, "more than a day after it was received")
    }

    /// Encodes the instant as RFC 3339 in UTC with milliseconds.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rfc3339)
    }
}
