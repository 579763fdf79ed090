import CRMSupport
import Foundation

/// Bars: the lifecycle funnel, the tiers, and actual against predicted.
enum BarCharts {
    /// The lifecycle stages as a funnel: one centred bar per stage, in the order customers pass through them, its
    /// width the stage's share of the largest, labelled with the count and the share of all.
    static func funnel(_ html: inout HTML, stages: [(name: String, count: Int)]) {
        let total = max(stages.reduce(0) { $0 + $1.count }, 1)
        let most = Double(stages.map(\.count).max() ?? 0)
        let width = 300.0
        let labelWidth = 96.0
        let row = 32.0
        html.svg(width: labelWidth + width + 120, height: row * Double(stages.count) + 8, label: "Lifecycle stages") {
            html in
            for (index, stage) in stages.enumerated() {
                let y = Double(index) * row + 4
                let barWidth = most > 0 ? max(2, width * Double(stage.count) / most) : 2
                let x = labelWidth + (width - barWidth) / 2
                html.label(
                    Figures.words(stage.name),
                    x: labelWidth - 10,
                    y: y + row / 2 + 3,
                    anchor: "end",
                    size: 12,
                    fill: Palette.axis
                )
                html.element(
                    "g",
                    attributes: [.init("data-stage", stage.name), .init("data-customers", String(stage.count))]
                ) { html in
                    html.rect(
                        x: x,
                        y: y,
                        width: barWidth,
                        height: row - 8,
                        fill: Palette.stage(stage.name),
                        radius: 3,
                        title: "\(stage.name): \(Figures.count(stage.count))"
                    )
                }
                html.label(
                    "\(Figures.count(stage.count))  ·  \(Figures.percent(Double(stage.count) / Double(total)))",
                    x: labelWidth + width + 8,
                    y: y + row / 2 + 3,
                    size: 12
                )
            }
        }
    }

    /// Horizontal bars, one per tier, in the tier's colour.
    static func tiers(_ html: inout HTML, tiers: [(name: String, count: Int)]) {
        let total = max(tiers.reduce(0) { $0 + $1.count }, 1)
        let most = Double(tiers.map(\.count).max() ?? 0)
        let width = 300.0
        let labelWidth = 70.0
        let row = 40.0
        html.svg(width: labelWidth + width + 146, height: row * Double(tiers.count) + 8, label: "Customers per tier") {
            html in
            for (index, tier) in tiers.enumerated() {
                let y = Double(index) * row + 4
                let barWidth = most > 0 ? max(2, width * Double(tier.count) / most) : 2
                html.label(
                    tier.name,
                    x: labelWidth - 10,
                    y: y + row / 2 + 2,
                    anchor: "end",
                    size: 12,
                    fill: Palette.axis
                )
                html.element(
                    "g",
                    attributes: [.init("data-tier", tier.name), .init("data-customers", String(tier.count))]
                ) { html in
                    html.rect(
                        x: labelWidth,
                        y: y + 4,
                        width: barWidth,
                        height: row - 14,
                        fill: Palette.tier(tier.name),
                        radius: 3,
                        title: "\(tier.name): \(Figures.count(tier.count))"
                    )
                }
                html.label(
                    "\(Figures.count(tier.count))  ·  \(Figures.percent(Double(tier.count) / Double(total)))",
                    x: labelWidth + barWidth + 8,
                    y: y + row / 2 + 2,
                    size: 12
                )
            }
        }
    }

    /// One bar per row, its length a share from 0 to 1 on a fixed scale (desks' SLA attainment), with a label.
    static func shares(_ html: inout HTML, rows: [(label: String, share: Double?)], label: String) {
        let width = 420.0
        let labelWidth = 120.0
        let row = 30.0
        html.svg(width: labelWidth + width + 70, height: row * Double(rows.count) + 24, label: label) { html in
            for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
                let x = labelWidth + width * tick
                html.line(x1: x, y1: 0, x2: x, y2: row * Double(rows.count), stroke: Palette.grid)
                html.label(
                    Figures.percent(tick, decimals: 0),
                    x: x,
                    y: row * Double(rows.count) + 16,
                    anchor: "middle",
                    size: 10,
                    fill: Palette.axis
                )
            }
            for (index, item) in rows.enumerated() {
                let y = Double(index) * row
                html.label(
                    item.label,
                    x: labelWidth - 10,
                    y: y + row / 2 + 4,
                    anchor: "end",
                    size: 12,
                    fill: Palette.axis
                )
                guard let share = item.share else {
                    html.label(
                        "no target decided yet",
                        x: labelWidth + 6,
                        y: y + row / 2 + 4,
                        size: 11,
                        fill: Palette.muted
                    )
                    continue
                }
                let color = share >= 0.9 ? "#2e7d4f" : share >= 0.75 ? "#2f6fb0" : share >= 0.5 ? "#d08a3c" : "#b3412e"
                html.rect(
                    x: labelWidth,
                    y: y + 6,
                    width: width * share,
                    height: row - 12,
                    fill: color,
                    radius: 3,
                    title: "\(item.label): \(Figures.percent(share))"
                )
                html.label(Figures.percent(share), x: labelWidth + width * share + 6, y: y + row / 2 + 4, size: 11)
            }
        }
    }

    /// One group of the validation chart: a label, the actual and the predicted mean.
    struct Pair {
        var label: String
        var customers: Int
        var actual: Double
        var predicted: Double
    }

    /// Actual against predicted, side by side per group (lifetimes' plot_calibration_purchases_vs_holdout_purchases).
    static func actualAgainstPredicted(_ html: inout HTML, pairs: [Pair], yTitle: String, xTitle: String) {
        let width = 640.0
        let height = 240.0
        let left = 52.0
        let top = 14.0
        let most = max(pairs.flatMap { [$0.actual, $0.predicted] }.max() ?? 0, 0.000_1)
        let scale = Ticks.nice(most)
        let group = width / Double(max(pairs.count, 1))
        let bar = min(28, group * 0.34)
        html.svg(width: left + width + 10, height: top + height + 46, label: "Actual against predicted") { html in
            for tick in scale.ticks {
                let y = top + height - height * tick / scale.maximum
                html.line(x1: left, y1: y, x2: left + width, y2: y, stroke: Palette.grid)
                html.label(Ticks.format(tick), x: left - 6, y: y + 4, anchor: "end", size: 10, fill: Palette.axis)
            }
            for (index, pair) in pairs.enumerated() {
                let center = left + group * (Double(index) + 0.5)
                for (offset, value, color, name) in [
                    (-bar - 1, pair.actual, Palette.actual, "actual"),
                    (1.0, pair.predicted, Palette.predicted, "predicted"),
                ] {
                    let barHeight = height * value / scale.maximum
                    html.rect(
                        x: center + offset,
                        y: top + height - barHeight,
                        width: bar,
                        height: barHeight,
                        fill: color,
                        title:
                            "\(pair.label): \(name) \(HTML.format(value, decimals: 3)) (\(Figures.count(pair.customers)) customers)",
                        attributes: [.init("class", "bar-\(name)")]
                    )
                }
                html.label(pair.label, x: center, y: top + height + 16, anchor: "middle", size: 11, fill: Palette.axis)
            }
            html.line(x1: left, y1: top + height, x2: left + width, y2: top + height, stroke: Palette.axis)
            html.label(
                xTitle,
                x: left + width / 2,
                y: top + height + 38,
                anchor: "middle",
                size: 11,
                fill: Palette.muted
            )
            html.label(yTitle, x: left, y: top - 2 + 0, size: 10, fill: Palette.muted)
        }
    }
}

/// Round axis ticks.
enum Ticks {
    /// A round maximum at or above `value`, and four or five ticks up to it.
    static func nice(_ value: Double) -> (maximum: Double, ticks: [Double]) {
        guard value > 0, value.isFinite else { return (1, [0, 0.25, 0.5, 0.75, 1]) }
        let magnitude = pow10(floor(log10(value)))
        let steps: [Double] = [1, 2, 2.5, 5, 10]
        let step = (steps.first { value / (magnitude * $0 / 4) <= 4 + 1e-9 } ?? 10) * magnitude / 4
        let count = Int((value / step).rounded(.up))
        let maximum = step * Double(max(count, 1))
        return (maximum, (0...max(count, 1)).map { Double($0) * step })
    }

    private static func pow10(_ exponent: Double) -> Double {
        var result = 1.0
        if exponent >= 0 {
            for _ in 0..<Int(exponent) { result *= 10 }
        } else {
            for _ in 0..<Int(-exponent) { result /= 10 }
        }
        return result
    }

    /// A tick's label: compact, with decimals only where the scale needs them.
    static func format(_ value: Double) -> String {
        if value == 0 { return "0" }
        if abs(value) >= 1000 { return Figures.compact(value) }
        if abs(value) >= 10 || value == value.rounded() { return HTML.format(value) }
        return HTML.format(value, decimals: abs(value) < 0.1 ? 3 : 2)
    }
}
