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
    private var value: Int
    /// Where the current value sits.
    private(set) var codingPath: [any CodingKey]

    private init(bytes: [UInt8], value: Int) {
        self.bytes = bytes
        self.value = value
        self.codingPath = []
    }

    /// Decodes the top-level value of a checked body.
    static func decode<T: Decodable>(_ type: T.Type, from checked: MessageBody.Checked) throws -> T {
        let bytes = [UInt8](checked.body)
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        Self.skipWhitespace(bytes, &start)
        return try T(from: CheckedBodyDecoder(bytes: bytes, value: start))
    }

    /// Runs `body` with `offset` as the current value at `path`, then restores the current value.
    fileprivate func with<T>(value offset: Int, path key: (any CodingKey)?, _ body: () throws -> T) rethrows -> T {
        let (savedValue, savedPath) = (value, codingPath)
        value = offset
        if let key { codingPath.append(key) }
        defer { (value, codingPath) = (savedValue, savedPath) }
        return try body()
    }

    /// The error for a request this decoder does not serve; see the type's documentation.
    func unsupported(_ type: Any.Type) -> DecodingError {
        DecodingError.dataCorrupted(
            .init(codingPath: codingPath, debugDescription: "CheckedBodyDecoder does not decode \(type)"))
    }
}

// MARK: - Reading the checked bytes

extension CheckedBodyDecoder {
    /// The JSON type of the value starting at `offset`.
    fileprivate enum Kind {
        case object, array, string, number, bool, null
    }

    fileprivate func kind(at offset: Int) -> Kind {
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
    fileprivate func describe(_ kind: Kind) -> String {
        switch kind {
        case .object: "a dictionary"
        case .array: "an array"
        case .string: "a string"
        case .number: "number"
        case .bool: "bool"
        case .null: "null"
        }
    }

    fileprivate static func skipWhitespace(_ bytes: [UInt8], _ offset: inout Int) {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    /// The offset just past the string token starting at `offset`, and whether it holds an escape.
    fileprivate func stringEnd(from offset: Int) -> (end: Int, escaped: Bool) {
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
    fileprivate func valueEnd(from offset: Int) -> Int {
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
    fileprivate func string(at offset: Int) -> String {
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
    fileprivate func members(of offset: Int) -> [Member] {
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
    fileprivate func elements(of offset: Int) -> [Int] {
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
    fileprivate struct Member {
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
    fileprivate func member(
        _ member: Member, isNamed name: String, utf8: UnsafeBufferPointer<UInt8>, ascii: Bool
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
    fileprivate func mismatch(_ type: Any.Type, at offset: Int, key: (any CodingKey)?) -> DecodingError {
        .typeMismatch(
            type,
            .init(
                codingPath: codingPath + (key.map { [$0] } ?? []),
                debugDescription: "Expected to decode \(type) but found \(describe(kind(at: offset))) instead."))
    }

    /// The error for null where a value of `type` is required.
    fileprivate func null(_ type: Any.Type, key: (any CodingKey)?) -> DecodingError {
        .valueNotFound(
            type,
            .init(
                codingPath: codingPath + (key.map { [$0] } ?? []),
                debugDescription: "Cannot get value of type \(type) -- found null value instead"))
    }

    // MARK: Values, as JSONDecoder unwraps them

    fileprivate func decodeString(at offset: Int, key: (any CodingKey)?) throws -> String {
        switch kind(at: offset) {
        case .string: return string(at: offset)
        case .null: throw null(String.self, key: key)
        default: throw mismatch(String.self, at: offset, key: key)
        }
    }

    fileprivate func decodeBool(at offset: Int, key: (any CodingKey)?) throws -> Bool {
        switch kind(at: offset) {
        case .bool: return bytes[offset] == UInt8(ascii: "t")
        default: throw mismatch(Bool.self, at: offset, key: key)
        }
    }

    fileprivate func decodeValue<T: Decodable>(_ type: T.Type, at offset: Int, key: (any CodingKey)?) throws -> T {
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
                        debugDescription: "Number \(text) is not representable as Decimal"))
            }
            return decimal as! T
        }
        if type == Date.self || type == Data.self || type == URL.self { throw unsupported(type) }
        return try with(value: offset, path: key) { try T(from: self) }
    }
}

// MARK: - Decoder

extension CheckedBodyDecoder: Decoder {
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        switch kind(at: value) {
        case .object:
            return KeyedDecodingContainer(
                KeyedContainer<Key>(decoder: self, codingPath: codingPath, members: members(of: value)))
        case .null:
            throw DecodingError.valueNotFound(
                [String: Any].self,
                .init(
                    codingPath: codingPath,
                    debugDescription: "Cannot get keyed decoding container -- found null value instead"))
        default:
            throw mismatch([String: Any].self, at: value, key: nil)
        }
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch kind(at: value) {
        case .array:
            return UnkeyedContainer(decoder: self, codingPath: codingPath, elements: elements(of: value))
        case .null:
            throw DecodingError.valueNotFound(
                [Any].self,
                .init(
                    codingPath: codingPath,
                    debugDescription: "Cannot get unkeyed decoding container -- found null value instead"))
        default:
            throw mismatch([Any].self, at: value, key: nil)
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }
}

extension CheckedBodyDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool { kind(at: value) == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try decodeBool(at: value, key: nil) }
    func decode(_ type: String.Type) throws -> String { try decodeString(at: value, key: nil) }
    func decode(_ type: Double.Type) throws -> Double { throw unsupported(type) }
    func decode(_ type: Float.Type) throws -> Float { throw unsupported(type) }
    func decode(_ type: Int.Type) throws -> Int { throw unsupported(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { throw unsupported(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { throw unsupported(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { throw unsupported(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { throw unsupported(type) }
    func decode(_ type: UInt.Type) throws -> UInt { throw unsupported(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { throw unsupported(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { throw unsupported(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { throw unsupported(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { throw unsupported(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type, at: value, key: nil) }
}

// MARK: - Containers

extension CheckedBodyDecoder {
    fileprivate struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let decoder: CheckedBodyDecoder
        let codingPath: [any CodingKey]
        let members: [Member]

        var allKeys: [Key] { members.compactMap { Key(stringValue: decoder.string(at: $0.key)) } }

        func contains(_ key: Key) -> Bool { lookUp(key) != nil }

        private func lookUp(_ key: Key) -> Int? {
            let name = key.stringValue
            var utf8 = name
            return utf8.withUTF8 { utf8 in
                let ascii = utf8.allSatisfy { $0 < 0x80 }
                for member in members where decoder.member(member, isNamed: name, utf8: utf8, ascii: ascii) {
                    return member.value
                }
                return nil
            }
        }

        private func value(for key: Key) throws -> Int {
            guard let offset = lookUp(key) else {
                throw DecodingError.keyNotFound(
                    key,
                    .init(
                        codingPath: codingPath,
                        debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
            }
            return offset
        }

        /// Runs `body` with the decoder positioned at this container, as nested decodes may have moved it.
        private func here<T>(_ body: () throws -> T) rethrows -> T {
            try decoder.with(value: 0, path: nil) {
                decoder.codingPath = codingPath
                return try body()
            }
        }

        func decodeNil(forKey key: Key) throws -> Bool { decoder.kind(at: try value(for: key)) == .null }

        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
            let offset = try value(for: key)
            return try here { try decoder.decodeBool(at: offset, key: key) }
        }

        func decode(_ type: String.Type, forKey key: Key) throws -> String {
            let offset = try value(for: key)
            return try here { try decoder.decodeString(at: offset, key: key) }
        }

        func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
            guard let offset = lookUp(key), decoder.kind(at: offset) != .null else { return nil }
            return try here { try decoder.decodeString(at: offset, key: key) }
        }

        func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
            guard let offset = lookUp(key), decoder.kind(at: offset) != .null else { return nil }
            return try here { try decoder.decodeBool(at: offset, key: key) }
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            let offset = try value(for: key)
            return try here { try decoder.decodeValue(type, at: offset, key: key) }
        }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            guard let offset = lookUp(key), decoder.kind(at: offset) != .null else { return nil }
            return try here { try decoder.decodeValue(type, at: offset, key: key) }
        }

        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { throw decoder.unsupported(type) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw decoder.unsupported(type) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { throw decoder.unsupported(type) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { throw decoder.unsupported(type) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { throw decoder.unsupported(type) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { throw decoder.unsupported(type) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { throw decoder.unsupported(type) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { throw decoder.unsupported(type) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { throw decoder.unsupported(type) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { throw decoder.unsupported(type) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { throw decoder.unsupported(type) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { throw decoder.unsupported(type) }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            let offset = try value(for: key)
            return try here { try decoder.with(value: offset, path: key) { try decoder.container(keyedBy: type) } }
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            let offset = try value(for: key)
            return try here { try decoder.with(value: offset, path: key) { try decoder.unkeyedContainer() } }
        }

        func superDecoder() throws -> any Decoder { throw decoder.unsupported((any Decoder).self) }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw decoder.unsupported((any Decoder).self) }
    }

    /// An array's position as a coding key, as `JSONDecoder` writes it: `Index 2`, with the integer 2.
    fileprivate struct IndexKey: CodingKey {
        var stringValue: String { "Index \(index)" }
        var intValue: Int? { index }
        let index: Int
        init(index: Int) { self.index = index }
        init?(stringValue: String) { nil }
        init?(intValue: Int) { self.index = intValue }
    }

    fileprivate struct UnkeyedContainer: UnkeyedDecodingContainer {
        let decoder: CheckedBodyDecoder
        let codingPath: [any CodingKey]
        let elements: [Int]
        private(set) var currentIndex = 0

        init(decoder: CheckedBodyDecoder, codingPath: [any CodingKey], elements: [Int]) {
            self.decoder = decoder
            self.codingPath = codingPath
            self.elements = elements
        }

        var count: Int? { elements.count }
        var isAtEnd: Bool { currentIndex >= elements.count }

        private func next(_ type: Any.Type) throws -> Int {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(
                    type,
                    .init(
                        codingPath: codingPath + [IndexKey(index: currentIndex)],
                        debugDescription: "Unkeyed container is at end."))
            }
            return elements[currentIndex]
        }

        private func here<T>(_ body: () throws -> T) rethrows -> T {
            try decoder.with(value: 0, path: nil) {
                decoder.codingPath = codingPath
                return try body()
            }
        }

        mutating func decodeNil() throws -> Bool {
            guard decoder.kind(at: try next(Never.self)) == .null else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode(_ type: Bool.Type) throws -> Bool {
            let offset = try next(type)
            let key = IndexKey(index: currentIndex)
            let result = try here { try decoder.decodeBool(at: offset, key: key) }
            currentIndex += 1
            return result
        }

        mutating func decode(_ type: String.Type) throws -> String {
            let offset = try next(type)
            let key = IndexKey(index: currentIndex)
            let result = try here { try decoder.decodeString(at: offset, key: key) }
            currentIndex += 1
            return result
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let offset = try next(type)
            let key = IndexKey(index: currentIndex)
            let result = try here { try decoder.decodeValue(type, at: offset, key: key) }
            currentIndex += 1
            return result
        }

        mutating func decode(_ type: Double.Type) throws -> Double { throw decoder.unsupported(type) }
        mutating func decode(_ type: Float.Type) throws -> Float { throw decoder.unsupported(type) }
        mutating func decode(_ type: Int.Type) throws -> Int { throw decoder.unsupported(type) }
        mutating func decode(_ type: Int8.Type) throws -> Int8 { throw decoder.unsupported(type) }
        mutating func decode(_ type: Int16.Type) throws -> Int16 { throw decoder.unsupported(type) }
        mutating func decode(_ type: Int32.Type) throws -> Int32 { throw decoder.unsupported(type) }
        mutating func decode(_ type: Int64.Type) throws -> Int64 { throw decoder.unsupported(type) }
        mutating func decode(_ type: UInt.Type) throws -> UInt { throw decoder.unsupported(type) }
        mutating func decode(_ type: UInt8.Type) throws -> UInt8 { throw decoder.unsupported(type) }
        mutating func decode(_ type: UInt16.Type) throws -> UInt16 { throw decoder.unsupported(type) }
        mutating func decode(_ type: UInt32.Type) throws -> UInt32 { throw decoder.unsupported(type) }
        mutating func decode(_ type: UInt64.Type) throws -> UInt64 { throw decoder.unsupported(type) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            let offset = try next(KeyedDecodingContainer<NestedKey>.self)
            let key = IndexKey(index: currentIndex)
            let result = try here {
                try decoder.with(value: offset, path: key) { try decoder.container(keyedBy: type) }
            }
            currentIndex += 1
            return result
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let offset = try next((any UnkeyedDecodingContainer).self)
            let key = IndexKey(index: currentIndex)
            let result = try here { try decoder.with(value: offset, path: key) { try decoder.unkeyedContainer() } }
            currentIndex += 1
            return result
        }

        mutating func superDecoder() throws -> any Decoder { throw decoder.unsupported((any Decoder).self) }
    }
}
