/// Checks a body against RFC 8259 and this project's stricter profile before Foundation parses it.
///
/// Foundation's `JSONDecoder` cannot be asked to do these things, so this pass does them first:
/// - reject duplicate keys (JSONDecoder silently keeps the first; for money data a second `amount` must not hide);
/// - bound nesting at ``maximumDepth`` (a hostile body should not recurse deeply in anyone's parser);
/// - reject numbers that `Decimal` cannot hold exactly (over 38 significant digits, or a scale outside -128...127):
///   JSONDecoder would silently truncate the first and report the second without naming the field;
/// - reject `\u0000` in strings: PostgreSQL `text` and `jsonb` cannot store it, so it would fail later as an error
///   that looks transient and is retried forever.
/// Anything this scanner accepts, JSONDecoder parses; the reverse is not true (it ignores duplicate keys).
struct JSONBodyScanner {
    /// The deepest nesting of objects and arrays accepted; the deepest message needs 3.
    static let maximumDepth = 32

    /// What the top-level `schema` member holds, read while scanning so routing needs no second parse.
    enum SchemaMember: Equatable, Sendable {
        case absent
        case string(String)
        case notAString
    }

    let bytes: [UInt8]
    var position = 0
    var path: [FieldPath.Component] = []
    private var schema = SchemaMember.absent

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Scans a whole body, which must be valid UTF-8, and returns its top-level `schema` member.
    static func scan(_ bytes: [UInt8]) throws(MessageRejection) -> SchemaMember {
        var scanner = JSONBodyScanner(bytes: bytes)
        try scanner.scanDocument()
        return scanner.schema
    }

    // MARK: - Structure

    private mutating func scanDocument() throws(MessageRejection) {
        // RFC 8259 §8.1 lets a parser ignore a byte order mark; JSONDecoder does too.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        skipWhitespace()
        guard let first = current else { throw syntax("the body is empty") }
        guard first == UInt8(ascii: "{") else {
            if Self.startsValue(first) {
                throw MessageRejection(.wrongType, field: "body", "expected a JSON object")
            }
            throw unexpected()
        }
        try scanObject(depth: 1)
        skipWhitespace()
        guard position == bytes.count else { throw syntax("unexpected data after the object at byte \(position)") }
    }

    private mutating func scanValue(depth: Int) throws(MessageRejection) {
        guard let byte = current else { throw syntax("unexpected end of the body") }
        switch byte {
        case UInt8(ascii: "{"): try scanObject(depth: depth + 1)
        case UInt8(ascii: "["): try scanArray(depth: depth + 1)
        case UInt8(ascii: "\""): _ = try scanString(decoding: false)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try scanNumber()
        case UInt8(ascii: "t"): try scanLiteral("true")
        case UInt8(ascii: "f"): try scanLiteral("false")
        case UInt8(ascii: "n"): try scanLiteral("null")
        default: throw unexpected()
        }
    }

    private mutating func scanObject(depth: Int) throws(MessageRejection) {
        try checkDepth(depth)
        position += 1
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            return
        }
        var keys = MemberNames()
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw unexpected(expecting: "a member name") }
            let key = try scanString(decoding: true) ?? ""
            path.append(.key(key))
            guard keys.insert(key) else {
                throw MessageRejection(.invalidJSON, field: FieldPath.render(path), "duplicate key")
            }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw unexpected(expecting: "':'") }
            position += 1
            skipWhitespace()
            if depth == 1 && key == "schema" {
                schema = try scanSchemaValue(depth: depth)
            } else {
                try scanValue(depth: depth)
            }
            path.removeLast()
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                return
            default: throw unexpected(expecting: "',' or '}'")
            }
        }
    }

    private mutating func scanArray(depth: Int) throws(MessageRejection) {
        try checkDepth(depth)
        position += 1
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            return
        }
        var index = 0
        while true {
            skipWhitespace()
            path.append(.index(index))
            try scanValue(depth: depth)
            path.removeLast()
            index += 1
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                return
            default: throw unexpected(expecting: "',' or ']'")
            }
        }
    }

    private mutating func scanSchemaValue(depth: Int) throws(MessageRejection) -> SchemaMember {
        guard current == UInt8(ascii: "\"") else {
            try scanValue(depth: depth)
            return .notAString
        }
        return .string(try scanString(decoding: true) ?? "")
    }

    private mutating func scanLiteral(_ literal: StaticString) throws(MessageRejection) {
        let count = literal.utf8CodeUnitCount
        let matches = literal.withUTF8Buffer { expected in
            position + count <= bytes.count && bytes[position..<position + count].elementsEqual(expected)
        }
        guard matches else { throw unexpected() }
        position += count
    }

    private func checkDepth(_ depth: Int) throws(MessageRejection) {
        guard depth <= Self.maximumDepth else {
            throw MessageRejection(.invalidJSON, field: "body", "nested deeper than \(Self.maximumDepth) levels")
        }
    }

    /// The member names of one object so far. Messages' objects have a dozen members at most, which a list
    /// compares faster than a set hashes; a hostile object with thousands goes to a set past `listLimit`.
    /// Swift string equality is canonical equivalence, the same comparison JSONDecoder's key lookup uses.
    private struct MemberNames {
        static let listLimit = 16
        private var list: [String] = []
        private var set: Set<String>?

        /// False when `name` is already there.
        mutating func insert(_ name: String) -> Bool {
            if set == nil {
                if list.contains(name) { return false }
                list.append(name)
                if list.count > Self.listLimit { set = Set(list) }
                return true
            }
            return set!.insert(name).inserted
        }
    }

    // MARK: - Bytes and errors

    var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            position += 1
        }
    }

    private static func startsValue(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "["), UInt8(ascii: "\""), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            return true
        default:
            return false
        }
    }

    /// A syntax error: `body: not valid JSON (detail)`.
    func syntax(_ detail: String) -> MessageRejection {
        MessageRejection(.invalidJSON, field: "body", "not valid JSON (\(detail))")
    }

    /// A syntax error at the current byte, shown as a character when it is printable ASCII.
    func unexpected(expecting expected: String? = nil) -> MessageRejection {
        guard let byte = current else { return syntax("unexpected end of the body") }
        let shown =
            (0x21...0x7E).contains(byte)
            ? "character '\(Character(Unicode.Scalar(byte)))'"
            : "byte 0x" + String(byte, radix: 16, uppercase: true)
        let wanted = expected.map { ", expected \($0)" } ?? ""
        return syntax("unexpected \(shown) at byte \(position)\(wanted)")
    }

    /// The field being scanned, or `body` at the top level.
    var currentField: String { path.isEmpty ? "body" : FieldPath.render(path) }
}
