import CRMSupport
import Foundation

/// A line over time: a customer's value or p_alive. Points are (time, value); a step line holds each value until the
/// next point (cumulative spend), a plain line joins them (a probability recomputed over time).
enum LineChart {
    struct Point {
        var time: Date
        var value: Double
    }

    static func draw(
        _ html: inout HTML,
        points: [Point],
        color: String,
        label: String,
        maximum fixedMaximum: Double? = nil,
        step: Bool = false,
        until end: Date? = nil,
        format: (Double) -> String,
        id: String? = nil
    ) {
        guard let first = points.first, let lastPoint = points.last else {
            html.element("p", .init("class", "empty"), text: "No points to draw yet.")
            return
        }
        let width = 540.0
        let height = 170.0
        let left = 58.0
        let top = 12.0
        // A step line holds its last value to `end` (the as-of time), so both of a customer's charts span the same time.
        let last = LineChart.Point(time: max(end ?? lastPoint.time, lastPoint.time), value: lastPoint.value)
        let start = first.time.timeIntervalSince1970
        let span = max(last.time.timeIntervalSince1970 - start, 86_400)
        let scale = Ticks.nice(fixedMaximum ?? max(points.map(\.value).max() ?? 0, 0.000_1))
        func x(_ time: Date) -> Double { left + width * (time.timeIntervalSince1970 - start) / span }
        func y(_ value: Double) -> Double { top + height - height * value / scale.maximum }
        html.svg(width: left + width + 16, height: top + height + 30, label: label, id: id) { html in
            for tick in scale.ticks {
                html.line(x1: left, y1: y(tick), x2: left + width, y2: y(tick), stroke: Palette.grid)
                html.label(format(tick), x: left - 6, y: y(tick) + 4, anchor: "end", size: 10, fill: Palette.axis)
            }
            var path = ""
            for (index, point) in points.enumerated() {
                let px = HTML.format(x(point.time), decimals: 1)
                let py = HTML.format(y(point.value), decimals: 1)
                if index == 0 {
                    path += "M\(px) \(py)"
                } else {
                    if step { path += " H\(px)" }
                    path += " L\(px) \(py)"
                }
            }
            if last.time > lastPoint.time { path += " H\(HTML.format(x(last.time), decimals: 1))" }
            html.void(
                "path",
                .init("d", path),
                .init("fill", "none"),
                .init("stroke", color),
                .init("stroke-width", "2"),
                .init("stroke-linejoin", "round"),
                selfClosing: true
            )
            if points.count <= 60 {
                for point in points {
                    html.element(
                        "circle",
                        attributes: [
                            .init("cx", HTML.format(x(point.time), decimals: 1)),
                            .init("cy", HTML.format(y(point.value), decimals: 1)), .init("r", "3"),
                            .init("fill", color),
                        ]
                    ) { html in
                        html.element("title", text: "\(Figures.date(Self.day(point.time))): \(format(point.value))")
                    }
                }
            }
            html.line(x1: left, y1: top + height, x2: left + width, y2: top + height, stroke: Palette.axis)
            html.label(Self.day(first.time), x: left, y: top + height + 18, size: 10, fill: Palette.axis)
            html.label(
                Self.day(last.time),
                x: left + width,
                y: top + height + 18,
                anchor: "end",
                size: 10,
                fill: Palette.axis
            )
        }
    }

    static func day(_ time: Date) -> String {
        let seconds = Int64(time.timeIntervalSince1970.rounded(.down))
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return String(format: "%04d-%02d-%02d", Int(year), Int(month), Int(day))
    }
}
