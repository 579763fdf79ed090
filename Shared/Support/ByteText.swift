/// Numbers and UTC date-times written straight into UTF-8 bytes, for text built on hot paths (statement parameters,
/// canonical forms, message bodies) without a `String` per field.
extension [UInt8] {
    /// Appends `value` in decimal, zero-padded on the left to at least `minimumDigits` digits, after a minus sign
    /// when negative (`-0042` for -42 with four digits).
    public mutating func appendDecimal(_ value: Int, minimumDigits: Int = 1) {
        if value < 0 { append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits = 1
        var rest = magnitude
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        append(contentsOf: repeatElement(UInt8(ascii: "0"), count: Swift.max(digits, minimumDigits)))
        var position = count - 1
        repeat {
            self[position] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
            position -= 1
        } while magnitude > 0
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS.<fraction>Z`, the fraction written with `fractionDigits` digits.
    public mutating func appendUTCDateTime(
        year: Int,
        month: Int,
        day: Int,
        hour: Int,
        minute: Int,
        second: Int,
        fraction: Int,
        fractionDigits: Int
    ) {
        appendDecimal(year, minimumDigits: 4)
        appendField("-", month)
        appendField("-", day)
        appendField("T", hour)
        appendField(":", minute)
        appendField(":", second)
        appendField(".", fraction, digits: fractionDigits)
        append(UInt8(ascii: "Z"))
    }

    /// Appends `separator`, then `value` zero-padded to `digits` digits.
    private mutating func appendField(_ separator: Unicode.Scalar, _ value: Int, digits: Int = 2) {
        append(UInt8(ascii: separator))
        appendDecimal(value, minimumDigits: digits)
    }
}
