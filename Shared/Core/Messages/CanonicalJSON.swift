/// A small JSON writer whose output depends on the content only, for content hashes stored in the database.
///
/// It follows RFC 8785 (JSON Canonicalization Scheme) for what it can hold: members sorted by UTF-16 code units,
/// no white space, strings escaped minimally (`\"`, `\\`, `\b` `\f` `\n` `\r` `\t`, other controls as `\u00xx`),
/// everything else written as UTF-8. Numbers are integers only; money travels as strings.
///
/// `JSONEncoder` with `.sortedKeys` is not used: its escaping (of `/`, say) is Foundation's choice and may change
/// between releases, and a stored hash must mean the same thing after a toolchain upgrade.
enum CanonicalJSON: Hashable, Sendable {
    case string(String)
    case integer(Int)
    case array([CanonicalJSON])
    case object([String: CanonicalJSON])

    /// The canonical text.
    var text: String {
        var out = ""
        write(into: &out)
        return out
    }

    /// An object with the optional members left out when `nil`.
    static func object(_ members: [(String, CanonicalJSON?)]) -> CanonicalJSON {
        var object: [String: CanonicalJSON] = [:]
        for (key, value) in members {
            if let value { object[key] = value }
        }
        return .object(object)
    }

    private func write(into out: inout String) {
        switch self {
        case .string(let value):
            Self.writeString(value, into: &out)
        case .integer(let value):
            out += String(value)
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                element.write(into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            let keys = members.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            for (index, key) in keys.enumerated() {
                if index > 0 { out += "," }
                Self.writeString(key, into: &out)
                out += ":"
                members[key]?.write(into: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ value: String, into out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
