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
        var bytes: [UInt8] = []
        write(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// An object with the optional members left out when `nil`.
    static func object(_ members: [(String, CanonicalJSON?)]) -> CanonicalJSON {
        var object: [String: CanonicalJSON] = [:]
        for (key, value) in members {
            if let value { object[key] = value }
        }
        return .object(object)
    }

    private func write(into bytes: inout [UInt8]) {
        switch self {
        case .string(let value):
            CanonicalOrderWriter.writeString(value, &bytes)
        case .integer(let value):
            bytes.append(contentsOf: String(value).utf8)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                element.write(into: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            let keys = members.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            for (index, key) in keys.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                CanonicalOrderWriter.writeString(key, &bytes)
                bytes.append(UInt8(ascii: ":"))
                members[key]?.write(into: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }
}
