/// CSV fields and JSON strings written straight into UTF-8 bytes, for exports that write millions of rows.
extension [UInt8] {
    /// Appends one CSV field as RFC 4180 writes it: as it is, or in double quotes with its quotes doubled when it
    /// holds a comma, a double quote, a carriage return or a line feed. Other bytes (UTF-8 text, Chinese
    /// included) go through unchanged.
    @inlinable
    public mutating func appendCSVField(_ field: some Collection<UInt8>) {
        let needsQuotes = field.contains { $0 == 44 || $0 == 34 || $0 == 10 || $0 == 13 }
        guard needsQuotes else {
            append(contentsOf: field)
            return
        }
        append(34)
        for byte in field {
            if byte == 34 { append(34) }
            append(byte)
        }
        append(34)
    }

    /// Appends one CSV field from text.
    public mutating func appendCSVField(_ text: String) {
        appendCSVField(text.utf8)
    }

    /// Appends `text` as a JSON string: in double quotes, with `"` and `\` escaped, control characters as `\n`,
    /// `\t`, `\r`, `\b`, `\f` or `\u00XX`, and every other byte (valid UTF-8 assumed) as it is.
    @inlinable
    public mutating func appendJSONString(_ text: some Collection<UInt8>) {
        append(34)
        for byte in text {
            switch byte {
            case 34: append(contentsOf: [92, 34])
            case 92: append(contentsOf: [92, 92])
            case 10: append(contentsOf: [92, 110])
            case 13: append(contentsOf: [92, 114])
            case 9: append(contentsOf: [92, 116])
            case 8: append(contentsOf: [92, 98])
            case 12: append(contentsOf: [92, 102])
            case 0..<32:
                let high = byte >> 4
                let low = byte & 15
                append(contentsOf: [92, 117, 48, 48, 48 + high, low < 10 ? 48 + low : 87 + low])
            default: append(byte)
            }
        }
        append(34)
    }

    /// Appends `text` as a JSON string.
    public mutating func appendJSONString(_ text: String) {
        appendJSONString(text.utf8)
    }
}
