import CRMSupport

/// An ISO 4217 alphabetic currency code in active use, such as `CNY` or `EUR`.
public struct CurrencyCode: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The three upper-case letters.
    public let code: String

    /// Creates a code, refusing anything not in ``active``.
    public init(_ code: String) throws(MessageRejection) {
        guard Self.active.contains(code) else {
            let hint = Self.active.contains(code.uppercased()) ? " (codes are upper case)" : ""
            throw MessageRejection(
                .invalidValue,
                field: "",
                "unknown ISO 4217 code \(MessageRejection.quoted(code))\(hint)"
            )
        }
        self.code = code
    }

    /// The code, e.g. `CNY`.
    public var description: String { code }

    /// Orders alphabetically.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.code < rhs.code }

    /// Decodes a JSON string and checks it.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard !container.decodeNil() else {
            throw MessageRejection(.missingField, field: FieldPath.render(decoder.codingPath), "must not be null")
        }
        guard let text = try? container.decode(String.self) else {
            throw MessageRejection(.wrongType, field: FieldPath.render(decoder.codingPath), "expected a string")
        }
        do throws(MessageRejection) {
            try self.init(text)
        } catch {
            throw error.located(at: decoder.codingPath)
        }
    }

    /// Encodes the code as a JSON string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }

    /// The codes of ISO 4217 list one in active use, as of the 2025 amendments (XCG added, ZWG added in 2024).
    ///
    /// Withdrawn codes are left out: HRK (2023), SLL and ZWL (replaced by SLE and ZWG), ANG (replaced by XCG in
    /// 2025), CUC. So are XTS (reserved for testing) and XXX (no currency): an order's money always has a currency.
    /// Fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW), metals and units of account stay: they are list one.
    /// Update this set when ISO publishes an amendment; it is data, not logic.
    public static let active: Set<String> = [
        "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN",
        "BAM", "BBD", "BDT", "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
        "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK",
        "DJF", "DKK", "DOP", "DZD",
        "EGP", "ERN", "ETB", "EUR",
        "FJD", "FKP",
        "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD",
        "HKD", "HNL", "HTG", "HUF",
        "IDR", "ILS", "INR", "IQD", "IRR", "ISK",
        "JMD", "JOD", "JPY",
        "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT",
        "LAK", "LBP", "LKR", "LRD", "LSL", "LYD",
        "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN",
        "NAD", "NGN", "NIO", "NOK", "NPR", "NZD",
        "OMR",
        "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG",
        "QAR",
        "RON", "RSD", "RUB", "RWF",
        "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL",
        "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS",
        "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS",
        "VED", "VES", "VND", "VUV",
        "WST",
        "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XUA",
        "YER",
        "ZAR", "ZMW", "ZWG",
    ]
}
