import Foundation

/// Normalizes complaint text and keywords the same way, so that matching ignores case and width.
enum TextNormalizer {
    /// NFKC (full-width `ＲＥＦＵＮＤ１２` becomes `REFUND12`, the ideographic space a space), then Unicode
    /// case folding (`Straße` and `STRASSE` meet), then runs of white space collapsed to one space so a
    /// keyword of two words matches across a line break.
    static func normalize(_ text: String) -> String {
        let folded = text.precomposedStringWithCompatibilityMapping
            .folding(options: [.caseInsensitive], locale: nil)
        var result = ""
        result.reserveCapacity(folded.utf8.count)
        var pendingSpace = false
        for character in folded {
            if character.isWhitespace {
                pendingSpace = !result.isEmpty
                continue
            }
            if pendingSpace {
                result.append(" ")
                pendingSpace = false
            }
            result.append(character)
        }
        return result
    }
}

/// One keyword, matched as a substring of normalized text on `Character`s.
///
/// Chinese and Japanese have no spaces between words, so a keyword of those scripts matches anywhere.
/// A keyword edge in a spaced script (Latin, Cyrillic, Greek...) must sit at a word boundary, so
/// `sue` finds "I will sue" but not "issue"; inflections are listed as keywords or written as patterns.
struct KeywordMatcher: Hashable, Sendable {
    /// The keyword as configured, for audit output.
    let term: String
    private let normalized: String
    /// The normalized keyword's UTF-8, for the byte-level pre-check.
    private let bytes: [UInt8]
    private let leadingBoundary: Bool
    private let trailingBoundary: Bool

    /// Returns `nil` for a keyword that is empty once normalized.
    init?(_ term: String) {
        let normalized = TextNormalizer.normalize(term)
        guard let first = normalized.first, let last = normalized.last else { return nil }
        self.term = term
        self.normalized = normalized
        self.bytes = Array(normalized.utf8)
        self.leadingBoundary = first.isSpacedWordCharacter
        self.trailingBoundary = last.isSpacedWordCharacter
    }

    /// Whether the keyword occurs in `text`, which must already be normalized.
    ///
    /// Text and keyword are both in the same normal form, so a match of Characters is also a match of their UTF-8
    /// bytes: a byte search, about a hundred times cheaper than searching Characters, rules out the many keywords
    /// that do not occur. Only a keyword whose bytes occur is searched again by Character, with word boundaries.
    func matches(_ text: String) -> Bool {
        guard Self.contains(bytes, in: text) else { return false }
        var searchStart = text.startIndex
        while let range = text[searchStart...].firstRange(of: normalized) {
            if isBounded(range, in: text) { return true }
            searchStart = text.index(after: range.lowerBound)
        }
        return false
    }

    /// Whether `needle` occurs in the UTF-8 of `text`.
    static func contains(_ needle: [UInt8], in text: String) -> Bool {
        var text = text
        return text.withUTF8 { haystack in
            needle.withUnsafeBufferPointer { needle in
                guard let first = needle.first, needle.count <= haystack.count else { return needle.isEmpty }
                var start = 0
                let last = haystack.count - needle.count
                while start <= last {
                    if haystack[start] == first {
                        var offset = 1
                        while offset < needle.count && haystack[start + offset] == needle[offset] { offset += 1 }
                        if offset == needle.count { return true }
                    }
                    start += 1
                }
                return false
            }
        }
    }

    private func isBounded(_ range: Range<String.Index>, in text: String) -> Bool {
        if leadingBoundary, range.lowerBound > text.startIndex,
            text[text.index(before: range.lowerBound)].isSpacedWordCharacter
        {
            return false
        }
        if trailingBoundary, range.upperBound < text.endIndex, text[range.upperBound].isSpacedWordCharacter {
            return false
        }
        return true
    }
}

/// A compiled regular expression with the text it came from.
struct PatternMatcher: Sendable {
    /// The expression as configured, for audit output.
    let source: String
    private let expression: NSRegularExpression

    /// Compiles case-insensitively; throws Foundation's error for an invalid expression.
    init(_ source: String) throws {
        self.source = source
        self.expression = try NSRegularExpression(pattern: source, options: [.caseInsensitive])
    }

    /// Whether the expression matches anywhere in `text`.
    func matches(_ text: String) -> Bool {
        expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

extension Character {
    /// A letter or digit of a script that separates words with spaces.
    ///
    /// Scripts written without spaces (Thai, Lao, Tibetan, Myanmar, Khmer, and everything from U+2E80
    /// on: CJK, kana, Hangul) never need a boundary; neither do marks, punctuation or spaces. Hangul is
    /// treated as unspaced because particles attach to the word (`환불을`).
    var isSpacedWordCharacter: Bool {
        guard isLetter || isNumber, let scalar = unicodeScalars.first else { return false }
        switch scalar.value {
        case 0x0E00..<0x10A0, 0x1100..<0x1200, 0x1780..<0x1800, 0x2E80...: return false
        default: return true
        }
    }
}

/// A keyword or a pattern: the two ways configuration recognises text.
enum TextRule: Sendable {
    case keyword(KeywordMatcher)
    case pattern(PatternMatcher)

    /// The keyword or expression as configured, as kept in `ComplaintClassification.matched`.
    var source: String {
        switch self {
        case .keyword(let keyword): keyword.term
        case .pattern(let pattern): pattern.source
        }
    }

    /// Whether the rule matches normalized text.
    func matches(_ text: String) -> Bool {
        switch self {
        case .keyword(let keyword): keyword.matches(text)
        case .pattern(let pattern): pattern.matches(text)
        }
    }

    /// Compiles a keyword, or records at `location` that it is empty once normalized.
    static func keyword(_ term: String, at location: String, issues: inout ConfigurationIssues) -> TextRule? {
        guard let keyword = KeywordMatcher(term) else {
            issues.add(.invalidValue, at: location, "keyword is empty once normalized")
            return nil
        }
        return .keyword(keyword)
    }

    /// Compiles a pattern, or records at `location` that it does not compile.
    static func pattern(_ source: String, at location: String, issues: inout ConfigurationIssues) -> TextRule? {
        do {
            return .pattern(try PatternMatcher(source))
        } catch {
            issues.add(.invalidPattern, at: location, "\"\(source)\" is not a valid regular expression")
            return nil
        }
    }
}
