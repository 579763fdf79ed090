import CRMSupport
import Foundation

/// Decodes a body that ``MessageBody/check(_:)`` accepted, for the `init(from:)` of `order.v1`'s types, reporting
/// every problem as Foundation's `JSONDecoder` does.
///
/// `JSONDecoder` maps the whole document first and then builds a `[String: Value]` dictionary, one `String` per
/// member name, for every object it opens; on intake's small orders that is most of the decoding time. This decoder
/// reads the bytes in place instead: `JSONBodyScanner` has already proven them well-formed (syntax, depth, no
/// duplicate keys, numbers `Decimal` holds, no NUL, valid UTF-8), so it validates nothing itself, and it finds a member
/// by comparing the name's bytes.
///
/// The `init(from:)` implementations run unchanged on it, so every rule and every reason stays in one place. What
/// they see must be what they would see under `JSONDecoder`: the same `DecodingError` cases, with the same types
/// and coding paths, and the same values (a JSON number becomes a `Decimal` through the same parser). The tests hold
/// both decoders to identical results on the fixtures, the corpus and mutated bodies.
///
/// It supports what those types ask for: keyed and unkeyed containers, `nil`, `Bool`, `String`, `Decimal` and nested
/// `Decodable` values. A request for another primitive (`Int`, `Double`, `Date`, ...) is answered with
/// ``unsupported(_:)``, a `DecodingError` naming the type, never a guess at `JSONDecoder`'s number rules.
final class CheckedBodyDecoder {
    let bytes: [UInt8]
    /// The offset of the current value's first byte.
    var value: Int
    /// Where the current value sits.
    var codingPath: [any CodingKey]

    private init(bytes: [UInt8], value: Int) {
        self.bytes = bytes
        self.value = value
        self.codingPath = []
    }

    /// Decodes the top-level value of a checked body.
    static func decode<T: Decodable>(_ type: T.Type, from checked: MessageBody.Checked) throws -> T {
        let bytes = checked.bytes
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        Self.skipWhitespace(bytes, &start)
        return try T(from: CheckedBodyDecoder(bytes: bytes, value: start))
    }

    /// Runs `body` with `offset` as the current value at `path`, then restores the current value.
    func with<T>(value offset: Int, path key: (any CodingKey)?, _ body: () throws -> T) rethrows -> T {
        let (savedValue, savedPath) = (value, codingPath)
        value = offset
        if let key { codingPath.append(key) }
        defer { (value, codingPath) = (savedValue, savedPath) }
        return try body()
    }

    /// The error for a request this decoder does not serve; see the type's documentation.
    func unsupported(_ type: Any.Type) -> DecodingError {
        DecodingError.dataCorrupted(
            .init(codingPath: codingPath, debugDescription: "CheckedBodyDecoder does not decode \(type)")
        )
    }
}

// MARK: - Reading the checked bytes

extension CheckedBodyDecoder {
    /// The JSON type of the value starting at `offset`.
    enum Kind {
        case object, array, string, number, bool, null
    }

    func kind(at offset: Int) -> Kind {
        switch bytes[offset] {
        case UInt8(ascii: "{"): .object
        case UInt8(ascii: "["): .array
        case UInt8(ascii: "\""): .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): .bool
        case UInt8(ascii: "n"): .null
        default: .number
        }
    }

    /// What `JSONDecoder` calls each kind in a type mismatch's description (the description is never shown).
    func describe(_ kind: Kind) -> String {
        switch kind {
        case .object: "a dictionary"
        case .array: "an array"
        case .string: "a string"
        case .number: "number"
        case .bool: "bool"
        case .null: "null"
        }
    }

    static func skipWhitespace(_ bytes: [UInt8], _ offset: inout Int) {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    /// The offset just past the string token starting at `offset`, and whether it holds an escape.
    func stringEnd(from offset: Int) -> (end: Int, escaped: Bool) {
        var position = offset + 1
        var escaped = false
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\""): return (position + 1, escaped)
            case UInt8(ascii: "\\"):
                escaped = true
                position += 2
            default: position += 1
            }
        }
        return (position, escaped)
    }

    /// The offset just past the value starting at `offset`.
    func valueEnd(from offset: Int) -> Int {
        switch bytes[offset] {
        case UInt8(ascii: "\""):
            return stringEnd(from: offset).end
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var position = offset
            while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                    position += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    position += 1
                    if depth == 0 { return position }
                case UInt8(ascii: "\""):
                    position = stringEnd(from: position).end
                default:
                    position += 1
                }
            }
            return position
        default:
            var position = offset
            while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09: return position
                default: position += 1
                }
            }
            return position
        }
    }

    /// The string token starting at `offset`, unescaped.
    func string(at offset: Int) -> String {
        let (end, escaped) = stringEnd(from: offset)
        let content = bytes[(offset + 1)..<(end - 1)]
        // The scanner validated the UTF-8, so decoding substitutes nothing.
        guard escaped else { return String(decoding: content, as: UTF8.self) }
        return String(decoding: Self.unescape(content), as: UTF8.self)
    }

    /// Resolves the escapes of a string the scanner accepted (so every escape is complete and pairs its surrogates).
    private static func unescape(_ content: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(content.count)
        var position = content.startIndex
        func hex4(_ at: Int) -> UInt32 {
            var value: UInt32 = 0
            for byte in content[at..<min(at + 4, content.endIndex)] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                default: digit = byte &- UInt8(ascii: "A") &+ 10
                }
                value = value << 4 | UInt32(digit & 0x0F)
            }
            return value
        }
        while position < content.endIndex {
            let byte = content[position]
            guard byte == UInt8(ascii: "\\"), position + 1 < content.endIndex else {
                out.append(byte)
                position += 1
                continue
            }
            let letter = content[position + 1]
            position += 2
            switch letter {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var unit = hex4(position)
                position += 4
                if (0xD800...0xDBFF).contains(unit), position + 6 <= content.endIndex {
                    let low = hex4(position + 2)
                    unit = 0x10000 + ((unit - 0xD800) << 10) + (low &- 0xDC00)
                    position += 6
                }
                UTF8.encode(Unicode.Scalar(unit) ?? "\u{FFFD}") { out.append($0) }
            default: out.append(letter)  // `"`, `\` and `/` stand for themselves
            }
        }
        return out
    }

    /// The members of the object starting at `offset`, in document order.
    func members(of offset: Int) -> [Member] {
        var members: [Member] = []
        members.reserveCapacity(12)
        var position = offset + 1
        while true {
            Self.skipWhitespace(bytes, &position)
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return members }
            let (keyEnd, escaped) = stringEnd(from: position)
            var plain = !escaped
            if plain {
                for byte in bytes[(position + 1)..<(keyEnd - 1)] where byte >= 0x80 {
                    plain = false
                    break
                }
            }
            let key = position
            position = keyEnd
            Self.skipWhitespace(bytes, &position)
            position += 1  // ':'
            Self.skipWhitespace(bytes, &position)
            guard position < bytes.count else { return members }
            members.append(Member(key: key, keyEnd: keyEnd, plain: plain, value: position))
            position = valueEnd(from: position)
            Self.skipWhitespace(bytes, &position)
            guard position < bytes.count, bytes[position] == UInt8(ascii: ",") else { return members }
            position += 1
        }
    }

    /// The elements of the array starting at `offset`, as the offsets of their first bytes.
    func elements(of offset: Int) -> [Int] {
        var elements: [Int] = []
        var position = offset + 1
        Self.skipWhitespace(bytes, &position)
        guard position < bytes.count, bytes[position] != UInt8(ascii: "]") else { return elements }
        while position < bytes.count {
            elements.append(position)
            position = valueEnd(from: position)
            Self.skipWhitespace(bytes, &position)
            guard position < bytes.count, bytes[position] == UInt8(ascii: ",") else { return elements }
            position += 1
            Self.skipWhitespace(bytes, &position)
        }
        return elements
    }

    /// One member of an object: where its name and its value start.
    struct Member {
        /// The offset of the name's opening quote, and just past its closing quote.
        var key: Int
        var keyEnd: Int
        /// The name is ASCII without escapes, so its bytes are its text.
        var plain: Bool
        var value: Int
    }

    /// Whether a member's name is `name`, compared as `JSONDecoder`'s dictionary does: by `String` equality.
    ///
    /// `utf8` is `name`'s UTF-8 and `ascii` whether it is all ASCII, worked out once per lookup. Equal bytes are
    /// equal strings; an ASCII name and a plain member name differ when their bytes do. Anything else (escapes,
    /// other scripts, where canonical equivalence can join different bytes) is decided by `String` equality.
    func member(
        _ member: Member,
        isNamed name: String,
        utf8: UnsafeBufferPointer<UInt8>,
        ascii: Bool
    ) -> Bool {
        let start = member.key + 1
        let end = member.keyEnd - 1
        if end - start == utf8.count {
            var equal = true
            for index in 0..<utf8.count where bytes[start + index] != utf8[index] {
                equal = false
                break
            }
            if equal { return true }
        }
        if member.plain && ascii { return false }
        return string(at: member.key) == name
    }

    /// A type mismatch at the current value plus `key`.
    func mismatch(_ type: Any.Type, at offset: Int, key: (any CodingKey)?) -> DecodingError {
        .typeMismatch(
            type,
            .init(
                codingPath: codingPath + (key.map { [$0] } ?? []),
                debugDescription: "Expected to decode \(type) but found \(describe(kind(at: offset))) instead."
            )
        )
    }

    /// The error for null where a value of `type` is required.
    func null(_ type: Any.Type, key: (any CodingKey)?) -> DecodingError {
        .valueNotFound(
            type,
            .init(
                codingPath: codingPath + (key.map { [$0] } ?? []),
                debugDescription: "Cannot get value of type \(type) -- found null value instead"
            )
        )
    }

    // MARK: Values, as JSONDecoder unwraps them

    func decodeString(at offset: Int, key: (any CodingKey)?) throws -> String {
        switch kind(at: offset) {
        case .string: return string(at: offset)
        case .null: throw null(String.self, key: key)
        default: throw mismatch(String.self, at: offset, key: key)
        }
    }

    func decodeBool(at offset: Int, key: (any CodingKey)?) throws -> Bool {
        switch kind(at: offset) {
        case .bool: return bytes[offset] == UInt8(ascii: "t")
        default: throw mismatch(Bool.self, at: offset, key: key)
        }
    }

    func decodeValue<T: Decodable>(_ type: T.Type, at offset: Int, key: (any CodingKey)?) throws -> T {
        if type == Decimal.self {
            switch kind(at: offset) {
            case .null: throw null(Decimal.self, key: key)
            case .number: break
            default: throw mismatch(Decimal.self, at: offset, key: key)
            }
            let text = String(decoding: bytes[offset..<valueEnd(from: offset)], as: UTF8.self)
            // The parser JSONDecoder uses for Decimal; the scanner has bounded digits and scale, so it succeeds.
            guard let decimal = Decimal(string: text, locale: nil) else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: codingPath + (key.map { [$0] } ?? []),
                        debugDescription: "Number \(text) is not representable as Decimal"
                    )
                )
            }
            return decimal as! T
        }
        if type == Date.self || type == Data.self || type == URL.self { throw unsupported(type) }
        return try with(value: offset, path: key) { try T(from: self) }
    }
}
