import CRMContract
import CRMSupport
import Console
import Foundation
import TestSupport
import Testing

/// The console over plain HTTP against the real database: sign-in, sessions, roles, escaping, forgery, headers.
@Suite struct ConsoleHTTPTests {
    static let pages = [
        "/console/", "/console/customers", "/console/customers?tier=gold", "/console/customers/c-1",
        "/console/model", "/console/desks", "/console/retention", "/console/customers.csv",
    ]

    @Test func nothingIsShownWithoutASession() async throws {
        try await TestServers.withEnvironment { environment in
            try await ConsoleHarness.storeSmallBase(pool: environment.pool)
            try await ConsoleHarness.whileRunning(environment) { port in
                for path in Self.pages {
                    let answer = try await ConsoleHarness.get(port: port, path, session: nil)
                    #expect(answer.status == 303, "\(path)")
                    #expect(
                        answer.header("Location")?.hasPrefix("/console/login?next=%2Fconsole%2F") == true,
                        "\(path)"
                    )
                    #expect(!answer.body.contains("c-1"), "\(path)")
                    let forged = try await ConsoleHarness.get(
                        port: port,
                        path,
                        session: String(repeating: "A", count: 43)
                    )
                    #expect(forged.status == 303, "a made-up session token opens \(path)")
                }
                let post = try await HTTPClient.request(
                    .POST,
                    port: port,
                    "/console/logout",
                    form: [("csrf_token", "x")]
                )
                #expect(post.status == 401)
                // Health and metrics stay open, as for every service.
                #expect(try await HTTPClient.request(port: port, "/health/live").status == 200)
                let ready = try await HTTPClient.request(port: port, "/health/ready")
                #expect(
                    ready.status == 200 && ready.body.contains(#""database":true"#) && !ready.body.contains("broker")
                )
                // Metrics are bootstrapped by their first reading (in a process, by the service host at start).
                _ = try await HTTPClient.request(port: port, "/metrics")
                _ = try await HTTPClient.request(port: port, "/console/")
                let metrics = try await HTTPClient.request(port: port, "/metrics").body
                #expect(metrics.contains(#"crm_console_requests_total{page="overview",status="303"}"#))
            }
        }
    }

    @Test func aWrongPasswordIsRefusedLoggedAndLimited() async throws {
        try await TestServers.withEnvironment { environment in
            try await ConsoleHarness.addUser(
                "ana",
                role: .analyst,
                password: "correct horse battery",
                pool: environment.pool
            )
            try await ConsoleHarness.whileRunning(environment, settings: ["CRM_CONSOLE_LOGIN_USER_LIMIT": "3"]) {
                port in
                let wrong = try await ConsoleHarness.signIn(port: port, user: "ana", password: "wrong horse battery")
                #expect(wrong.answer.status == 401)
                #expect(wrong.session == nil)
                #expect(wrong.answer.body.contains("Wrong user name or password."))
                let unknown = try await ConsoleHarness.signIn(
                    port: port,
                    user: "nobody",
                    password: "correct horse battery"
                )
                #expect(unknown.answer.status == 401, "an unknown name answers as a wrong password does")

                let right = try await ConsoleHarness.signIn(port: port, user: "ana", password: "correct horse battery")
                #expect(right.answer.status == 303)
                #expect(right.answer.header("Location") == "/console/")
                let cookie = try #require(right.answer.cookie("crm_console_session")?.header)
                #expect(
                    cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict")
                        && cookie.contains("Path=/console")
                )
                #expect(!cookie.contains("Secure"), "plain HTTP without a trusted proxy: no Secure")
                let stored = try await environment.pool.query("SELECT token_hash FROM console_sessions")
                #expect(stored.count == 1)
                #expect(stored.first?[0] != right.session, "the table keeps a hash of the token, not the token")
                let hashes = try await environment.pool.query("SELECT password_hash FROM console_users")
                #expect(hashes.first?[0]?.hasPrefix("$2b$12$") == true)

                // A user's failures are forgotten on success; three more and the limit holds even the right password.
                for _ in 0..<3 {
                    #expect(
                        try await ConsoleHarness.signIn(port: port, user: "ana", password: "guess guess guess").answer
                            .status == 401
                    )
                }
                let limited = try await ConsoleHarness.signIn(
                    port: port,
                    user: "ana",
                    password: "correct horse battery"
                )
                #expect(limited.answer.status == 429)
                #expect(limited.session == nil)
                let failures = try await environment.pool.query(
                    "SELECT count(*) FROM console_login_failures WHERE username = 'ana'"
                )
                #expect(try failures[0].decode(0, as: Int.self) == 3)
            }
        }
    }

    @Test func sessionsExpireWhenIdleAndEndWhenTheUserIsRemoved() async throws {
        try await TestServers.withEnvironment { environment in
            try await ConsoleHarness.addUser(
                "ida",
                role: .admin,
                password: "correct horse battery",
                pool: environment.pool
            )
            try await ConsoleHarness.addUser(
                "rem",
                role: .admin,
                password: "correct horse battery",
                pool: environment.pool
            )
            try await ConsoleHarness.whileRunning(environment, settings: ["CRM_CONSOLE_SESSION_IDLE": "2s"]) { port in
                let idle = try #require(
                    try await ConsoleHarness.signIn(port: port, user: "ida", password: "correct horse battery").session
                )
                #expect(try await ConsoleHarness.get(port: port, "/console/desks", session: idle).status == 200)
                try await Task.sleep(for: .milliseconds(2500))
                let expired = try await ConsoleHarness.get(port: port, "/console/desks", session: idle)
                #expect(expired.status == 303)
                #expect(expired.header("Location")?.hasPrefix("/console/login") == true)

                let removed = try #require(
                    try await ConsoleHarness.signIn(port: port, user: "rem", password: "correct horse battery").session
                )
                #expect(try await ConsoleHarness.get(port: port, "/console/desks", session: removed).status == 200)
                let run = try Shell.execute(
                    "crm",
                    arguments: ["users", "remove", "rem"],
                    environment: environment.serviceVariables
                )
                #expect(run.status == 0)
                #expect(try await ConsoleHarness.get(port: port, "/console/desks", session: removed).status == 303)
                #expect(
                    try Shell.execute(
                        "crm",
                        arguments: ["users", "remove", "rem"],
                        environment: environment.serviceVariables
                    ).status == 1
                )
            }
        }
    }

    @Test func crmUsersAddsListsAndRemovesUsers() async throws {
        try await TestServers.withEnvironment { environment in
            var variables = environment.serviceVariables
            func crm(_ arguments: [String]) throws -> (status: Int32, output: String) {
                try Shell.execute("crm", arguments: arguments, environment: variables)
            }
            variables["CRM_USER_PASSWORD"] = "short"
            #expect(try crm(["users", "add", "dora", "--role", "desk_manager"]).status == 64, "a short password")
            variables["CRM_USER_PASSWORD"] = "desk manager's password"
            #expect(try crm(["users", "add", "dora", "--role", "boss"]).status == 64, "an unknown role")
            #expect(try crm(["users", "add", "not a name", "--role", "admin"]).status == 64)
            let added = try crm(["users", "add", "dora", "--role", "desk_manager"])
            #expect(added.status == 0 && added.output.contains("User dora added as desk_manager."))
            #expect(!added.output.contains("desk manager's password"))
            #expect(try crm(["users", "add", "dora", "--role", "admin"]).status == 2, "exists without --replace")
            let list = try crm(["users", "list", "--json"])
            let user = try #require(
                try JSONSerialization.jsonObject(with: Data(list.output.utf8)) as? [String: Any]
            )
            #expect(user["name"] as? String == "dora" && user["role"] as? String == "desk_manager")
            #expect(user["active_sessions"] as? Int == 0)
            try await ConsoleHarness.whileRunning(environment) { port in
                let session = try await ConsoleHarness.signIn(
                    port: port,
                    user: "dora",
                    password: "desk manager's password"
                )
                #expect(session.answer.header("Location") == "/console/desks")
            }
            let signedIn = try crm(["users", "list", "--json"])
            #expect(signedIn.output.contains(#""active_sessions":1"#))
            variables["CRM_USER_PASSWORD"] = "a new password for dora"
            let replaced = try crm(["users", "add", "dora", "--role", "analyst", "--replace"])
            #expect(replaced.status == 0 && replaced.output.contains("its sessions ended"))
            #expect(try crm(["users", "list"]).output.contains("analyst"))
            #expect(try crm(["users", "remove", "dora"]).status == 0)
            #expect(try crm(["users", "list"]).output.contains("No console users"))
        }
    }

    @Test func aRoleWithoutAPageGets403() async throws {
        try await TestServers.withEnvironment { environment in
            try await ConsoleHarness.storeSmallBase(pool: environment.pool)
            try await ConsoleHarness.addUser(
                "desk",
                role: .deskManager,
                password: "correct horse battery",
                pool: environment.pool
            )
            try await ConsoleHarness.addUser(
                "ana",
                role: .analyst,
                password: "correct horse battery",
                pool: environment.pool
            )
            try await ConsoleHarness.whileRunning(environment) { port in
                let desk = try await ConsoleHarness.signIn(port: port, user: "desk", password: "correct horse battery")
                #expect(desk.answer.header("Location") == "/console/desks", "a desk manager lands on the desks")
                let deskSession = try #require(desk.session)
                for path in ["/console/", "/console/model", "/console/customers.csv"] {
                    let answer = try await ConsoleHarness.get(port: port, path, session: deskSession)
                    #expect(answer.status == 403, "\(path)")
                    #expect(!answer.body.contains("c-1"), "\(path)")
                }
                for path in ["/console/desks", "/console/retention", "/console/customers", "/console/customers/c-1"] {
                    #expect(
                        try await ConsoleHarness.get(port: port, path, session: deskSession).status == 200,
                        "\(path)"
                    )
                }
                let analyst = try #require(
                    try await ConsoleHarness.signIn(port: port, user: "ana", password: "correct horse battery").session
                )
                #expect(try await ConsoleHarness.get(port: port, "/console/desks", session: analyst).status == 403)
                for path in ["/console/", "/console/model", "/console/customers.csv", "/console/retention"] {
                    #expect(try await ConsoleHarness.get(port: port, path, session: analyst).status == 200, "\(path)")
                }
            }
        }
    }

    @Test func markupInCustomerDataIsShownAsTextEverywhere() async throws {
        try await TestServers.withEnvironment { environment in
            try await ConsoleHarness.storeSmallBase(pool: environment.pool)
            try await ConsoleHarness.addUser(
                "root",
                role: .admin,
                password: "correct horse battery",
                pool: environment.pool
            )
            try await ConsoleHarness.whileRunning(environment) { port in
                let session = try #require(
                    try await ConsoleHarness.signIn(port: port, user: "root", password: "correct horse battery").session
                )
                let hostile = ConsoleHarness.hostile
                let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
                let pages = [
                    "/console/customers", "/console/customers?flag=do_not_retain",
                    "/console/customers/" + HTTPClient.encode(hostile), "/console/",
                    "/console/customers?region=" + HTTPClient.encode(hostile),
                ]
                for path in pages {
                    let answer = try await ConsoleHarness.get(port: port, path, session: session)
                    #expect(answer.status == 200, "\(path)")
                    #expect(!answer.body.contains("<script>alert"), "\(path) carries the markup as markup")
                    #expect(!answer.body.contains("<b onmouseover"), "\(path)")
                    #expect(!answer.body.contains("<script>"), "\(path): no inline script at all")
                }
                let list = try await ConsoleHarness.get(
                    port: port,
                    "/console/customers?flag=do_not_retain",
                    session: session
                )
                #expect(list.body.contains(escaped))
                let page = try await ConsoleHarness.get(
                    port: port,
                    "/console/customers/" + HTTPClient.encode(hostile),
                    session: session
                )
                #expect(page.body.components(separatedBy: escaped).count >= 3, "the id and the name, escaped")
                #expect(
                    page.body.contains("&lt;b onmouseover=alert(2)&gt;x&lt;/b&gt;"),
                    "the flag's note in the timeline"
                )
                let echoed = try await ConsoleHarness.get(
                    port: port,
                    "/console/customers?region=" + HTTPClient.encode(hostile),
                    session: session
                )
                #expect(echoed.body.contains("value=\"\(escaped)\""), "a filter's value is echoed escaped")
                let csv = try await ConsoleHarness.get(
                    port: port,
                    "/console/customers.csv?flag=do_not_retain",
                    session: session
                )
                #expect(csv.header("Content-Type")?.hasPrefix("text/csv") == true)
                #expect(csv.body.contains(hostile), "CSV carries the id as data")
            }
        }
    }

    @Test func everyPostNeedsItsAntiForgeryToken() async throws {
        try await TestServers.withEnvironment { environment in
            try await ConsoleHarness.addUser(
                "root",
                role: .admin,
                password: "correct horse battery",
                pool: environment.pool
            )
            try await ConsoleHarness.whileRunning(environment) { port in
                let credentials = [("username", "root"), ("password", "correct horse battery")]
                let bare = try await HTTPClient.request(.POST, port: port, "/console/login", form: credentials)
                #expect(bare.status == 403)
                #expect(bare.cookie("crm_console_session") == nil)
                let form = try await HTTPClient.request(port: port, "/console/login")
                let token = try #require(form.cookie("crm_console_login")?.value)
                #expect(form.body.contains(#"name="csrf_token" value="\#(token)""#))
                let withoutCookie = try await HTTPClient.request(
                    .POST,
                    port: port,
                    "/console/login",
                    form: credentials + [("csrf_token", token)]
                )
                #expect(withoutCookie.status == 403, "a token without its cookie (another site's form)")
                let mismatched = try await HTTPClient.request(
                    .POST,
                    port: port,
                    "/console/login",
                    headers: [("Cookie", "crm_console_login=\(String(repeating: "B", count: 43))")],
                    form: credentials + [("csrf_token", token)]
                )
                #expect(mismatched.status == 403)

                let session = try #require(
                    try await ConsoleHarness.signIn(port: port, user: "root", password: "correct horse battery").session
                )
                let cookie = [("Cookie", "crm_console_session=\(session)")]
                let logoutWithout = try await HTTPClient.request(
                    .POST,
                    port: port,
                    "/console/logout",
                    headers: cookie,
                    form: []
                )
                #expect(logoutWithout.status == 403)
                #expect(
                    try await ConsoleHarness.get(port: port, "/console/desks", session: session).status == 200,
                    "still signed in"
                )
                let page = try await ConsoleHarness.get(port: port, "/console/desks", session: session)
                let csrf = try #require(
                    page.body.components(separatedBy: #"name="csrf_token" value=""#).dropFirst().first?.prefix(43)
                )
                let logout = try await HTTPClient.request(
                    .POST,
                    port: port,
                    "/console/logout",
                    headers: cookie,
                    form: [("csrf_token", String(csrf))]
                )
                #expect(logout.status == 303)
                #expect(
                    try await ConsoleHarness.get(port: port, "/console/desks", session: session).status == 303,
                    "signed out"
                )
            }
        }
    }

    @Test func pagesCarryTheSecurityHeaders() async throws {
        try await TestServers.withEnvironment { environment in
            try await ConsoleHarness.addUser(
                "root",
                role: .admin,
                password: "correct horse battery",
                pool: environment.pool
            )
            try await ConsoleHarness.whileRunning(
                environment,
                settings: ["CRM_CONSOLE_TRUST_PROXY": "true"]
            ) { port in
                let form = try await HTTPClient.request(port: port, "/console/login")
                let token = try #require(form.cookie("crm_console_login")?.value)
                let behindTLS = try await HTTPClient.request(
                    .POST,
                    port: port,
                    "/console/login",
                    headers: [("Cookie", "crm_console_login=\(token)"), ("X-Forwarded-Proto", "https")],
                    form: [("csrf_token", token), ("username", "root"), ("password", "correct horse battery")]
                )
                #expect(behindTLS.cookie("crm_console_session")?.header.contains("; Secure") == true)
                let session = try #require(behindTLS.cookie("crm_console_session")?.value)
                for path in [
                    "/console/", "/console/customers", "/console/model", "/console/desks", "/console/retention",
                    "/console/login",
                ] {
                    let answer = try await ConsoleHarness.get(port: port, path, session: session)
                    let policy = answer.header("Content-Security-Policy") ?? ""
                    #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "\(path)")
                    #expect(policy.contains("frame-ancestors 'none'"), "\(path)")
                    #expect(answer.header("X-Frame-Options") == "DENY", "\(path)")
                    #expect(answer.header("X-Content-Type-Options") == "nosniff", "\(path)")
                    #expect(answer.header("Cache-Control") == "no-store", "\(path)")
                }
                let script = try await HTTPClient.request(port: port, "/console/assets/console.js")
                #expect(script.status == 200 && script.header("Content-Type")?.hasPrefix("text/javascript") == true)
            }
        }
    }
}
