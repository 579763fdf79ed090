// MARK: - Strings and numbers

extension JSONBodyScanner {
    /// Scans a string token; decodes it only when asked (member names and the schema), to keep values cheap.
    mutating func scanString(decoding: Bool) throws(MessageRejection) -> String? {
        let start = position
        position += 1
        var runStart = position
        var decoded: [UInt8] = []
        var escaped = false
        while true {
            guard let byte = current else { throw syntax("unterminated string starting at byte \(start)") }
            switch byte {
            case UInt8(ascii: "\""):
                let end = position
                position += 1
                guard decoding else { return nil }
                // The body passed UTF-8 validation, so decoding cannot substitute replacement characters.
                guard escaped else { return String(decoding: bytes[runStart..<end], as: UTF8.self) }
                decoded.append(contentsOf: bytes[runStart..<end])
                return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                if decoding { decoded.append(contentsOf: bytes[runStart..<position]) }
                escaped = true
                let scalar = try scanEscape()
                if decoding { UTF8.encode(scalar) { decoded.append($0) } }
                runStart = position
            case 0x00..<0x20:
                throw syntax(
                    "control character 0x\(String(byte, radix: 16, uppercase: true)) in a string at byte \(position)"
                )
            default:
                position += 1
            }
        }
    }

    /// Scans one escape sequence, the backslash included, pairing UTF-16 surrogates.
    private mutating func scanEscape() throws(MessageRejection) -> Unicode.Scalar {
        let start = position
        position += 1
        guard let letter = current else { throw syntax("unexpected end of the body") }
        position += 1
        switch letter {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"): break
        default: throw syntax("invalid escape at byte \(start)")
        }
        let unit = try scanHex4(escapeAt: start)
        switch unit {
        case 0:
            throw MessageRejection(.invalidValue, field: currentField, "contains a NUL character (\\u0000)")
        case 0xD800...0xDBFF:
            guard current == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u")
            else { throw syntax("unpaired surrogate escape at byte \(start)") }
            position += 2
            let low = try scanHex4(escapeAt: start)
            guard (0xDC00...0xDFFF).contains(low) else { throw syntax("unpaired surrogate escape at byte \(start)") }
            let value = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            guard let scalar = Unicode.Scalar(value) else { throw syntax("invalid escape at byte \(start)") }
            return scalar
        case 0xDC00...0xDFFF:
            throw syntax("unpaired surrogate escape at byte \(start)")
        default:
            guard let scalar = Unicode.Scalar(unit) else { throw syntax("invalid escape at byte \(start)") }
            return scalar
        }
    }

    private mutating func scanHex4(escapeAt start: Int) throws(MessageRejection) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current else { throw syntax("unexpected end of the body") }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw syntax("invalid escape at byte \(start)")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// Scans a number token per RFC 8259 and checks that `Decimal` holds it exactly.
    ///
    /// The value is `significand × 10^scale`. Foundation's `Decimal` keeps up to 38 significant digits and a scale of
    /// -128...127; a number beyond that is refused here with its field named (`1e400`: `amount: number out of range`).
    mutating func scanNumber() throws(MessageRejection) {
        let start = position
        if current == UInt8(ascii: "-") { position += 1 }
        guard let first = current, Self.isDigit(first) else { throw malformedNumber(at: start) }
        var significantDigits = 0
        var seenNonZero = first != UInt8(ascii: "0")
        if seenNonZero {
            while let byte = current, Self.isDigit(byte) {
                significantDigits += 1
                position += 1
            }
        } else {
            position += 1
        }
        var fractionDigits = 0
        if current == UInt8(ascii: ".") {
            position += 1
            guard let byte = current, Self.isDigit(byte) else { throw malformedNumber(at: start) }
            while let byte = current, Self.isDigit(byte) {
                fractionDigits += 1
                if seenNonZero || byte != UInt8(ascii: "0") {
                    seenNonZero = true
                    significantDigits += 1
                }
                position += 1
            }
        }
        var exponent = 0
        var zeroWithUnsignedExponent = false
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            let negative = current == UInt8(ascii: "-")
            let signed = negative || current == UInt8(ascii: "+")
            zeroWithUnsignedExponent =
                !signed && !seenNonZero && fractionDigits == 0 && bytes[start] == UInt8(ascii: "0")
            if signed { position += 1 }
            guard let byte = current, Self.isDigit(byte) else { throw malformedNumber(at: start) }
            while let byte = current, Self.isDigit(byte) {
                // Saturate: anything this large is out of range anyway, and must not overflow.
                if exponent < 1_000_000 { exponent = exponent * 10 + Int(byte - UInt8(ascii: "0")) }
                position += 1
            }
            if negative { exponent = -exponent }
        }
        let scale = exponent - fractionDigits
        guard significantDigits <= 38, (-128...127).contains(scale) else {
            throw MessageRejection(.invalidValue, field: currentField, "number out of range")
        }
        // Foundation's JSONDecoder refuses exactly this valid form (`0e4`, `0E4`); saying so here beats its vague
        // "not valid JSON".
        if zeroWithUnsignedExponent {
            throw MessageRejection(
                .invalidValue,
                field: currentField,
                "zero with an exponent (0e4) is not accepted; write 0"
            )
        }
    }

    private func malformedNumber(at start: Int) -> MessageRejection {
        syntax("malformed number at byte \(start)")
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
