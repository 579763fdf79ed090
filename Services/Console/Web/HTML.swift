import CRMSupport
import Foundation

/// Writes HTML (and the SVG inside it) where nothing untrusted can become markup: element and attribute names are
/// `StaticString`s, fixed when the console is compiled, and every value — text or attribute — is escaped on its
/// way in. Customer ids, names, notes and complaint subjects are untrusted input; they reach a page only through
/// ``text(_:)`` and attribute values.
struct HTML {
    private(set) var output = ""

    init() {
        output.reserveCapacity(16_384)
    }

    /// An attribute: a fixed name and an escaped value; a nil value leaves the attribute out.
    struct Attribute {
        let name: StaticString
        let value: String?

        init(_ name: StaticString, _ value: String?) {
            self.name = name
            self.value = value
        }
    }

    /// Escaped text.
    mutating func text(_ value: String) {
        Self.escape(value, into: &output)
    }

    /// A number, with `decimals` fractional digits.
    mutating func number(_ value: Double, decimals: Int = 0) {
        output += Self.format(value, decimals: decimals)
    }

    /// Markup fixed at compile time (an entity, a doctype).
    mutating func markup(_ fixed: StaticString) {
        output += fixed.description
    }

    /// `<name attributes>body</name>`.
    mutating func element(_ name: StaticString, _ attributes: Attribute..., body: (inout HTML) -> Void = { _ in }) {
        open(name, attributes)
        body(&self)
        output += "</\(name)>"
    }

    /// `<name attributes>body</name>`, the attributes as a list.
    mutating func elementWithList(_ name: StaticString, _ attributes: [Attribute], body: (inout HTML) -> Void) {
        open(name, attributes)
        body(&self)
        output += "</\(name)>"
    }

    /// `<name attributes>text</name>`.
    mutating func element(_ name: StaticString, _ attributes: Attribute..., text value: String) {
        open(name, attributes)
        text(value)
        output += "</\(name)>"
    }

    /// An element without content or end tag (`<input>`, `<meta>`, or a self-closed SVG shape).
    mutating func void(_ name: StaticString, _ attributes: Attribute..., selfClosing: Bool = false) {
        open(name, attributes, close: selfClosing ? "/>" : ">")
    }

    private mutating func open(_ name: StaticString, _ attributes: [Attribute], close: String = ">") {
        output += "<\(name)"
        for attribute in attributes {
            guard let value = attribute.value else { continue }
            output += " \(attribute.name)=\""
            Self.escape(value, into: &output)
            output += "\""
        }
        output += close
    }

    /// Escapes the five characters that matter in text and in double-quoted attribute values.
    static func escape(_ value: String, into output: inout String) {
        guard value.utf8.contains(where: { $0 == 38 || $0 == 60 || $0 == 62 || $0 == 34 || $0 == 39 }) else {
            output += value
            return
        }
        for character in value.unicodeScalars {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&#39;"
            default: output.unicodeScalars.append(character)
            }
        }
    }

    static func escaped(_ value: String) -> String {
        var output = ""
        escape(value, into: &output)
        return output
    }

    /// A number for people and for SVG coordinates: fixed decimals, no exponent, `-0` as `0`.
    static func format(_ value: Double, decimals: Int = 0) -> String {
        guard value.isFinite else { return "0" }
        let text = String(format: "%.\(decimals)f", value)
        return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
    }
}

/// How figures are written on the pages.
enum Figures {
    /// `12,345`.
    static func count(_ value: Int) -> String {
        let digits = String(abs(value))
        var grouped = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped += "," }
            grouped.append(character)
        }
        return value < 0 ? "-" + grouped : grouped
    }

    /// Money from a decimal string or number: `1,234.57`; `–` when absent.
    static func money(_ text: String?) -> String {
        guard let text, let value = Double(text) else { return "–" }
        return money(value)
    }

    static func money(_ value: Double) -> String {
        let cents = (abs(value) * 100).rounded()
        let whole = Int(cents / 100)
        let fraction = Int(cents.truncatingRemainder(dividingBy: 100))
        let sign = value < 0 && cents > 0 ? "-" : ""
        return sign + count(whole) + "." + (fraction < 10 ? "0" : "") + String(fraction)
    }

    /// Compact money for chart labels: `1.2M`, `35.4k`, `512`.
    static func compact(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 1_000_000 { return HTML.format(value / 1_000_000, decimals: 1) + "M" }
        if magnitude >= 10_000 { return HTML.format(value / 1_000, decimals: 0) + "k" }
        if magnitude >= 1_000 { return HTML.format(value / 1_000, decimals: 1) + "k" }
        return HTML.format(value, decimals: 0)
    }

    /// `42.1%`.
    static func percent(_ value: Double?, decimals: Int = 1) -> String {
        guard let value, value.isFinite else { return "–" }
        return HTML.format(value * 100, decimals: decimals) + "%"
    }

    /// A probability with three decimals.
    static func probability(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        return HTML.format(value, decimals: 3)
    }

    /// The date part of an RFC 3339 time (`2026-12-05`), or the text as given.
    static func date(_ text: String?) -> String {
        guard let text else { return "–" }
        return String(text.prefix(10))
    }

    /// `2026-12-05 14:03` from an RFC 3339 time in UTC.
    static func minute(_ text: String?) -> String {
        guard let text, text.count >= 16 else { return text ?? "–" }
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5))
    }

    /// A duration in seconds as `3 h 05 min`, `12 min`, `2 d 4 h`.
    static func duration(seconds: Double?) -> String {
        guard let seconds, seconds.isFinite else { return "–" }
        let minutes = Int((seconds / 60).rounded())
        if minutes < 60 { return "\(minutes) min" }
        let hours = minutes / 60
        if hours < 48 { return "\(hours) h \(String(format: "%02d", minutes % 60)) min" }
        return "\(hours / 24) d \(hours % 24) h"
    }

    /// `snake_case` words for people: `need_attention` → `need attention`.
    static func words(_ name: String) -> String {
        name.replacingOccurrences(of: "_", with: " ")
    }
}
