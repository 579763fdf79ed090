/// Shorthands for writing SVG with ``HTML``: every number formatted, every label escaped.
extension HTML {
    /// `<svg viewBox="0 0 width height" role="img" aria-label="…">…</svg>`.
    mutating func svg(width: Double, height: Double, label: String, id: String? = nil, body: (inout HTML) -> Void) {
        element(
            "svg",
            .init("xmlns", "http://www.w3.org/2000/svg"),
            .init("viewBox", "0 0 \(HTML.format(width)) \(HTML.format(height))"),
            .init("width", HTML.format(width)),
            .init("height", HTML.format(height)),
            .init("role", "img"),
            .init("aria-label", label),
            .init("id", id),
            body: body
        )
    }

    /// A rectangle, with a tooltip when `title` is given.
    mutating func rect(
        x: Double,
        y: Double,
        width: Double,
        height: Double,
        fill: String,
        radius: Double = 0,
        title: String? = nil,
        attributes: [HTML.Attribute] = []
    ) {
        let shape: [HTML.Attribute] = [
            .init("x", HTML.format(x, decimals: 1)), .init("y", HTML.format(y, decimals: 1)),
            .init("width", HTML.format(max(width, 0), decimals: 1)),
            .init("height", HTML.format(max(height, 0), decimals: 1)),
            .init("rx", radius > 0 ? HTML.format(radius, decimals: 1) : nil), .init("fill", fill),
        ]
        element("rect", attributes: shape + attributes) { html in
            if let title { html.element("title", text: title) }
        }
    }

    /// A text label.
    mutating func label(
        _ text: String,
        x: Double,
        y: Double,
        anchor: String = "start",
        size: Double = 12,
        fill: String = "#1c2533",
        weight: String? = nil
    ) {
        element(
            "text",
            attributes: [
                .init("x", HTML.format(x, decimals: 1)), .init("y", HTML.format(y, decimals: 1)),
                .init("text-anchor", anchor), .init("font-size", HTML.format(size, decimals: 1)),
                .init("fill", fill), .init("font-weight", weight),
            ]
        ) { html in html.text(text) }
    }

    /// A straight line.
    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 1) {
        void(
            "line",
            .init("x1", HTML.format(x1, decimals: 1)),
            .init("y1", HTML.format(y1, decimals: 1)),
            .init("x2", HTML.format(x2, decimals: 1)),
            .init("y2", HTML.format(y2, decimals: 1)),
            .init("stroke", stroke),
            .init("stroke-width", HTML.format(width, decimals: 1)),
            selfClosing: true
        )
    }

    /// An element with attributes given as a list (for shapes built up in code).
    mutating func element(_ name: StaticString, attributes: [HTML.Attribute], body: (inout HTML) -> Void) {
        elementWithList(name, attributes, body: body)
    }
}
