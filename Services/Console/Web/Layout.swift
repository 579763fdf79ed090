/// The chrome of every console page: head, the navigation of the pages the user's role may open, sign-out.
enum Layout {
    static func write(
        into html: inout HTML,
        title: String,
        current: ConsolePage?,
        session: ConsoleSession?,
        body: (inout HTML) -> Void
    ) {
        html.markup("<!DOCTYPE html>")
        html.element("html", .init("lang", "en")) { html in
            html.element("head") { html in
                html.void("meta", .init("charset", "utf-8"))
                html.void("meta", .init("name", "viewport"), .init("content", "width=device-width, initial-scale=1"))
                html.element("title", text: "\(title) · crm console")
                html.void("link", .init("rel", "stylesheet"), .init("href", "/console/assets/console.css"))
                // No favicon request (a 404 in every browser's console).
                html.void("link", .init("rel", "icon"), .init("href", "data:,"))
                html.element("script", .init("src", "/console/assets/console.js"), .init("defer", "defer"))
            }
            html.element("body") { html in
                html.element("header", .init("class", "top")) { html in
                    html.element("a", .init("class", "brand"), .init("href", "/console/"), text: "crm console")
                    html.element("nav") { html in
                        guard let session else { return }
                        for page in ConsolePage.navigation where session.role.allows(page) {
                            let isCurrent = page == current || (page == .customers && current == .customer)
                            html.element(
                                "a",
                                .init("href", page.path),
                                .init("class", isCurrent ? "current" : nil),
                                text: page.title
                            )
                        }
                    }
                    if let session {
                        html.element("div", .init("class", "who")) { html in
                            html.element("span", text: "\(session.user) · \(Figures.words(session.role.rawValue))")
                            html.element("form", .init("method", "post"), .init("action", "/console/logout")) { html in
                                html.void(
                                    "input",
                                    .init("type", "hidden"),
                                    .init("name", "csrf_token"),
                                    .init("value", session.csrfToken)
                                )
                                html.element("button", .init("type", "submit"), text: "Sign out")
                            }
                        }
                    }
                }
                html.element("main") { html in body(&html) }
            }
        }
    }

    /// The page's heading and a line under it.
    static func heading(_ html: inout HTML, _ title: String, _ subtitle: String?) {
        html.element("h1", text: title)
        if let subtitle { html.element("p", .init("class", "subtitle"), text: subtitle) }
    }

    /// A figure card: label, value, optional note.
    static func figure(_ html: inout HTML, _ label: String, _ value: String, note: String? = nil, id: String? = nil) {
        html.element("div", .init("class", "figure"), .init("id", id)) { html in
            html.element("div", .init("class", "label"), text: label)
            html.element("div", .init("class", "value"), text: value)
            if let note { html.element("div", .init("class", "note"), text: note) }
        }
    }

    /// A panel saying plainly that some data does not exist yet.
    static func missing(_ html: inout HTML, _ title: String, _ message: String) {
        html.element("section", .init("class", "panel")) { html in
            html.element("h2", text: title)
            html.element("p", .init("class", "empty"), text: message)
        }
    }
}
