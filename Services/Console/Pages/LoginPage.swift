/// `/console/login`: the sign-in form. Its hidden `csrf_token` must equal the `crm_console_login` cookie set with
/// the form (double-submit), so another site cannot sign a browser in under an account of its choosing.
enum LoginPage {
    static func render(csrfToken: String, next: String?, message: String?) -> HTML {
        var html = HTML()
        Layout.write(into: &html, title: "Sign in", current: nil, session: nil) { html in
            html.element("section", .init("class", "panel login-box")) { html in
                html.element("h1", text: "Sign in")
                html.element("p", .init("class", "subtitle"), text: "The customer-value console.")
                if let message {
                    html.element("p", .init("class", "message"), .init("id", "login-message"), text: message)
                }
                html.element(
                    "form",
                    .init("class", "login"),
                    .init("method", "post"),
                    .init("action", "/console/login")
                ) { html in
                    html.void("input", .init("type", "hidden"), .init("name", "csrf_token"), .init("value", csrfToken))
                    if let next {
                        html.void("input", .init("type", "hidden"), .init("name", "next"), .init("value", next))
                    }
                    html.element("div") { html in
                        html.element("label", .init("for", "username"), text: "User name")
                        html.void(
                            "input",
                            .init("id", "username"),
                            .init("name", "username"),
                            .init("autocomplete", "username"),
                            .init("required", "required")
                        )
                    }
                    html.element("div") { html in
                        html.element("label", .init("for", "password"), text: "Password")
                        html.void(
                            "input",
                            .init("id", "password"),
                            .init("name", "password"),
                            .init("type", "password"),
                            .init("autocomplete", "current-password"),
                            .init("required", "required")
                        )
                    }
                    html.element(
                        "button",
                        .init("class", "primary"),
                        .init("type", "submit"),
                        .init("id", "sign-in"),
                        text: "Sign in"
                    )
                }
            }
        }
        return html
    }

    /// Where to go after signing in: a `/console/` path of this site only (never another host, never `//…`).
    static func safeNext(_ next: String?) -> String? {
        guard let next, next.hasPrefix("/console/") || next == "/console", !next.hasPrefix("//"),
            !next.contains("\\"), !next.unicodeScalars.contains(where: { $0.value < 32 })
        else { return nil }
        return next
    }
}
