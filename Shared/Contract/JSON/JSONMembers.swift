import Foundation

/// The top-level members of a JSON object, in order, each as its exact text: what lets a message be passed on with
/// every member as received (unknown ones included) and fields added beside them, without a parse and re-encoding
/// that would rewrite numbers, escapes or times.
///
/// The text must be one well-formed JSON object (a body ``MessageBody`` has checked, or one this system encoded);
/// `split` returns nil otherwise, never traps.
public struct JSONMembers: Sendable {
    /// One member: its name, and the bytes of `"name": value` as they stand.
    public struct Member: Sendable {
        public var name: String
        public var text: ArraySlice<UInt8>
    }

    public var members: [Member]

    /// Splits an object into its members; nil when the text is not one JSON object.
    public static func split(_ bytes: [UInt8]) -> JSONMembers? {
        var position = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        func skipWhitespace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }
        /// Moves past a string starting at `position` (its opening quote); false at the end of the text.
        func skipString() -> Bool {
            position += 1
            while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: "\\"): position += 2
                case UInt8(ascii: "\""):
                    position += 1
                    return true
                default: position += 1
                }
            }
            return false
        }
        /// Moves past one value; false when it does not end.
        func skipValue() -> Bool {
            var depth = 0
            while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: "\""):
                    guard skipString() else { return false }
                    if depth == 0 { return true }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 { return true }
                    depth -= 1
                    if depth == 0 {
                        position += 1
                        return true
                    }
                case UInt8(ascii: ","), 0x20, 0x09, 0x0A, 0x0D:
                    if depth == 0 { return true }
                default: break
                }
                position += 1
            }
            return depth == 0
        }
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "{") else { return nil }
        position += 1
        var members: [Member] = []
        while true {
            skipWhitespace()
            guard position < bytes.count else { return nil }
            if bytes[position] == UInt8(ascii: "}") { break }
            if bytes[position] == UInt8(ascii: ","), !members.isEmpty {
                position += 1
                skipWhitespace()
            }
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
            let start = position
            guard skipString() else { return nil }
            guard let name = try? JSONDecoder().decode(String.self, from: Data(bytes[start..<position])) else {
                return nil
            }
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return nil }
            position += 1
            skipWhitespace()
            guard position < bytes.count, skipValue() else { return nil }
            members.append(Member(name: name, text: bytes[start..<position]))
        }
        return JSONMembers(members: members)
    }

    /// The object again: `{`, the members' texts joined by commas, `}`.
    public var bytes: [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (index, member) in members.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += member.text
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A member built from a name and a value encoded here.
    public static func member<Value: Encodable>(_ name: String, _ value: Value) throws -> Member {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = try encoder.encode(name) + Data(":".utf8) + encoder.encode(value)
        return Member(name: name, text: ArraySlice(text))
    }
}
