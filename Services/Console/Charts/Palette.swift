import CRMSupport

/// The console's colours: one sequential scale for every heat map, and fixed colours per tier and series.
enum Palette {
    /// The stops of the sequential scale: a pale blue, a clear blue, the brand's navy.
    private static let stops: [(Double, Double, Double)] = [(238, 243, 249), (111, 161, 214), (31, 58, 95)]

    /// A colour of the sequential scale for `share` (0 light … 1 dark).
    static func shade(_ share: Double) -> String {
        let t = share.isFinite ? min(max(share, 0), 1) : 0
        let (from, to, u) = t < 0.5 ? (stops[0], stops[1], t * 2) : (stops[1], stops[2], (t - 0.5) * 2)
        func channel(_ a: Double, _ b: Double) -> Int { Int((a + (b - a) * u).rounded()) }
        return hex(channel(from.0, to.0), channel(from.1, to.1), channel(from.2, to.2))
    }

    /// Text that reads on `shade(share)`.
    static func ink(on share: Double) -> String { share > 0.45 ? "#ffffff" : "#1c2533" }

    static let actual = "#1f3a5f"
    static let predicted = "#8fb8e0"
    static let value = "#2f6fb0"
    static let alive = "#2e7d4f"
    static let grid = "#dfe5ec"
    static let axis = "#5b6b7f"
    static let muted = "#8a97a8"

    /// The colour of a tier's bar.
    static func tier(_ name: String) -> String {
        switch name {
        case "gold": "#c9a227"
        case "silver": "#8a99a8"
        case "bronze": "#b0703c"
        default: "#5b6b7f"
        }
    }

    /// The colour of a lifecycle stage: growing stages blue, declining ones warm.
    static func stage(_ name: String) -> String {
        switch name {
        case "potential": "#9bbbe0"
        case "development": "#5f93cc"
        case "growth": "#2f6fb0"
        case "maturity": "#1f3a5f"
        case "decline": "#d08a3c"
        case "termination": "#b3412e"
        case "recovery": "#2e7d4f"
        default: "#5b6b7f"
        }
    }

    private static func hex(_ r: Int, _ g: Int, _ b: Int) -> String {
        func two(_ value: Int) -> String {
            let text = String(value, radix: 16)
            return text.count == 1 ? "0" + text : text
        }
        return "#" + two(r) + two(g) + two(b)
    }
}
