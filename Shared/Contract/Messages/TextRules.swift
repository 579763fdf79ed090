/// The rules for short printable strings: identifiers, and labels such as `channel`, `desk` or `tier`.
///
/// Lengths count Unicode scalars, the unit PostgreSQL's `char_length` and `varchar(n)` count in a UTF-8 database,
/// and one that does not change between Unicode versions (grapheme clusters do). 128 scalars is at most 512 bytes.
enum TextRules {
    /// The longest identifier or label, in Unicode scalars.
    static let maximumLength = 128

    /// What is wrong with a short printable string, or `nil` when it is acceptable.
    static func problem(inLabel value: String, maximumLength: Int = maximumLength) -> String? {
        if isPrintableASCII(value) {
            // The same verdicts as below, without looking up Unicode properties: no character from U+0020 to
            // U+007E is a control or a separator, and only the space is white space.
            let utf8 = value.utf8
            guard let first = utf8.first, let last = utf8.last else { return "empty" }
            if utf8.count > maximumLength { return "longer than \(maximumLength) characters" }
            if first == UInt8(ascii: " ") || last == UInt8(ascii: " ") { return "has leading or trailing white space" }
            return nil
        }
        guard let first = value.unicodeScalars.first, let last = value.unicodeScalars.last else { return "empty" }
        var count = 0
        for scalar in value.unicodeScalars {
            count += 1
            if count > maximumLength { return "longer than \(maximumLength) characters" }
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator:
                return "contains a control character"
            case .format where isBidirectionalControl(scalar):
                return "contains a control character"
            default:
                break
            }
        }
        // "A-1001 " and "A-1001" would be two orders to the database and one to a person.
        if first.properties.isWhitespace || last.properties.isWhitespace {
            return "has leading or trailing white space"
        }
        return nil
    }

    /// What is wrong with an identifier, or `nil` when it is acceptable: a label's rules, and no invisible character.
    ///
    /// A zero-width space, joiner, word joiner, soft hyphen, variation selector or Hangul filler inside an id makes two
    /// ids that look the same to a person and differ to the database (two orders, two customers). Labels may keep the
    /// joiners that ordinary Persian, Hindi or emoji text needs; an id has no use for them.
    static func problem(inIdentifier value: String) -> String? {
        if let problem = problem(inLabel: value) { return problem }
        guard !isPrintableASCII(value) else { return nil }
        for scalar in value.unicodeScalars
        where scalar.properties.generalCategory == .format || scalar.properties.isDefaultIgnorableCodePoint {
            return "contains an invisible character (U+\(String(scalar.value, radix: 16, uppercase: true)))"
        }
        return nil
    }

    /// Whether every character is printable ASCII, U+0020 to U+007E: most identifiers and labels.
    private static func isPrintableASCII(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E }
    }

    /// The bidirectional controls that make one string display as another ("Trojan Source", CVE-2021-42574).
    ///
    /// Other format characters stay allowed: the zero-width joiner and non-joiner are part of ordinary Persian,
    /// Hindi and emoji text.
    private static func isBidirectionalControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// Checks a required label, naming `field` in the rejection.
    static func check(label value: String, field: String) throws(MessageRejection) {
        if let problem = problem(inLabel: value) {
            throw MessageRejection(.invalidValue, field: field, problem)
        }
    }

    /// Checks an optional label, naming `field` in the rejection.
    static func check(label value: String?, field: String) throws(MessageRejection) {
        if let value { try check(label: value, field: field) }
    }

    /// Checks an optional count against `range`, with `rule` as the problem.
    static func check(_ value: Int?, in range: ClosedRange<Int>, field: String, rule: String) throws(MessageRejection) {
        if let value, !range.contains(value) {
            throw MessageRejection(.invalidValue, field: field, rule)
        }
    }

    /// Checks an optional number against `range`, with `rule` as the problem.
    static func check(
        _ value: Double?,
        in range: ClosedRange<Double>,
        field: String,
        rule: String
    ) throws(MessageRejection) {
        if let value, !(value.isFinite && range.contains(value)) {
            throw MessageRejection(.invalidValue, field: field, rule)
        }
    }
}
