import Alerts
import CRMPostgres
import CRMRuntime
import Complaints
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Scoring

/// The console's routes: sign-in and sign-out, the six pages, the CSV export, the static files, and health.
struct ConsoleRoutes: Sendable {
    let pool: PostgresPool
    let configuration: ConsoleConfiguration
    let sessions: SessionStore
    let limiter: LoginLimiter
    let health: HealthResponses
    let logger: Logger

    func router() -> Hummingbird.Router<ConsoleRequestContext> {
        let router = Hummingbird.Router(context: ConsoleRequestContext.self)
        router.add(middleware: SecurityMiddleware())
        router.add(middleware: SessionMiddleware(sessions: sessions))

        router.get("/health/live") { _, _ in Responses.text(HealthResponses.live, contentType: "application/json") }
        router.get("/health/ready") { _, _ in
            let (body, status) = await health.ready()
            return Responses.text(body, contentType: "application/json", status: .init(code: status))
        }
        router.get("/metrics") { _, _ in
            let (body, type) = HealthResponses.metrics()
            return Responses.text(body, contentType: type)
        }

        router.get("/console/assets/console.css") { _, _ in asset(Assets.stylesheet, type: "text/css; charset=utf-8") }
        router.get("/console/assets/console.js") { _, _ in
            asset(Assets.script, type: "text/javascript; charset=utf-8")
        }
        router.get("/console/login") { request, context in try await loginForm(request, context) }
        router.post("/console/login") { request, context in try await login(request, context) }
        router.post("/console/logout") { request, context in try await logout(request, context) }

        router.get("/console/") { request, context in
            try await page(.overview, context) { session in
                OverviewPage.render(report: try await BaseReportStore.latest(pool: pool), session: session)
            }
        }
        router.get("/console/customers") { request, context in try await customers(request, context) }
        router.get("/console/customers.csv") { request, context in try await export(request, context) }
        router.get("/console/customers/**") { request, context in try await customer(request, context) }
        router.get("/console/model") { _, context in
            try await page(.model, context) { session in
                async let model = ModelSummary.load(pool: pool)
                async let report = BaseReportStore.latest(pool: pool)
                let oldest = try await report?.cohorts.first.flatMap { Self.monthStart($0.month) }
                return ModelPage.render(model: try await model, oldestFirstPurchase: oldest, session: session)
            }
        }
        router.get("/console/desks") { _, context in
            try await page(.desks, context) { session in
                DesksPage.render(desks: try await DeskFigures.load(pool: pool), session: session)
            }
        }
        router.get("/console/retention") { _, context in
            try await page(.retention, context) { session in
                async let report = AlertsReport.load(pool: pool)
                async let control = RetentionReport.load(pool: pool)
                return RetentionPage.render(report: try await report, control: try await control, session: session)
            }
        }
        return router
    }

    // MARK: - Pages

    /// Runs `render` for a signed-in user whose role may open `page`; 403 for one whose role may not.
    private func page(
        _ page: ConsolePage,
        _ context: ConsoleRequestContext,
        status: HTTPResponse.Status = .ok,
        render: (ConsoleSession) async throws -> HTML
    ) async throws -> Response {
        guard let session = context.session else {
            // The session middleware lets no request without a session this far; refuse all the same.
            return Responses.problem(.unauthorized, title: "Signed out", message: "Sign in first.", session: nil)
        }
        guard session.role.allows(page) else {
            return Responses.problem(
                .forbidden,
                title: "Not for your role",
                message: "The \(page.title.lowercased()) page is not open to the role \(session.role.rawValue).",
                session: session
            )
        }
        return Responses.page(try await render(session), status: status)
    }

    private func customers(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let parameters = CustomersPage.parameters(FormFields.query(of: request))
        let query: CustomerQuery
        do throws(CustomerSelectionError) {
            query = try CustomerQuery(
                parameters: parameters + [("limit", String(configuration.pageSize))],
                pageLimit: 1000
            )
        } catch {
            return try await page(.customers, context, status: .badRequest) { session in
                CustomersPage.render(parameters: parameters, customers: [], next: nil, problem: error, session: session)
            }
        }
        return try await page(.customers, context) { session in
            let (customers, next) = try await CustomerList.records(query, pool: pool)
            return CustomersPage.render(
                parameters: parameters,
                customers: customers,
                next: next,
                problem: nil,
                session: session
            )
        }
    }

    /// The whole selection as CSV, streamed page by page (a slow download holds no connection of the pool).
    private func export(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        guard let session = context.session, session.role.allows(.export) else {
            return try await page(.export, context) { _ in HTML() }
        }
        let parameters = CustomersPage.parameters(FormFields.query(of: request)).filter { $0.name != "after" }
        let query: CustomerQuery
        do throws(CustomerSelectionError) {
            query = try CustomerQuery(parameters: parameters, pageLimit: nil)
        } catch {
            return Responses.text(
                error.description + "\n",
                contentType: "text/plain; charset=utf-8",
                status: .badRequest
            )
        }
        logger.info(
            "Console export",
            metadata: ["console.user": "\(session.user)", "export.filters": "\(parameters.map(\.name))"]
        )
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = #"attachment; filename="customers.csv""#
        let pool = self.pool
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(bytes: CustomerList.csvHeader))
                var pages = CustomerList.CSVPage(query: query)
                while let bytes = try await pages.next(pool: pool) { try await writer.write(ByteBuffer(bytes: bytes)) }
                try await writer.finish(nil)
            }
        )
    }

    private func customer(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let prefix = "/console/customers/"
        let raw = String(request.uri.path.dropFirst(prefix.count))
        let id = raw.removingPercentEncoding ?? raw
        return try await page(.customer, context) { session in
            guard let details = try await CustomerDetails.load(customerID: id, pool: pool) else {
                throw HTTPError(.notFound, message: "No scored customer has this id.")
            }
            return CustomerPage.render(details, session: session)
        }
    }

    // MARK: - Signing in and out

    private func loginForm(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let next = LoginPage.safeNext(FormFields.query(of: request).first { $0.name == "next" }?.value)
        if let token = request.cookies[Cookies.session]?.value, let session = try await sessions.find(token: token) {
            return Responses.redirect(next ?? session.role.home.path)
        }
        return loginResponse(request, next: next, message: nil, status: .ok)
    }

    /// The form with a fresh anti-forgery token, set as a cookie too.
    private func loginResponse(
        _ request: Request,
        next: String?,
        message: String?,
        status: HTTPResponse.Status
    ) -> Response {
        let token = SessionStore.randomToken()
        var response = Responses.page(LoginPage.render(csrfToken: token, next: next, message: message), status: status)
        response.headers.append(
            HTTPField(name: .setCookie, value: Cookies.set(Cookies.login, token, secure: secure(request)))
        )
        return response
    }

    private func login(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let form = try await FormFields.body(of: request, context: context)
        let next = LoginPage.safeNext(form["next"])
        guard let sent = form["csrf_token"], let expected = request.cookies[Cookies.login]?.value,
            SessionStore.isToken(sent), sent == expected
        else {
            logger.warning(
                "Console sign-in refused: missing or wrong anti-forgery token",
                metadata: ["client.address": "\(address(request, context))"]
            )
            return Responses.problem(
                .forbidden,
                title: "Form expired",
                message:
                    "The sign-in form was not sent from this console (or its cookie is gone). Open the sign-in page again.",
                session: nil
            )
        }
        let user = form["username"] ?? ""
        let password = form["password"] ?? ""
        let client = address(request, context)
        guard try await limiter.allows(user: user, address: client) else {
            logger.warning(
                "Console sign-in refused: too many failures",
                metadata: ["console.user": "\(user)", "client.address": "\(client)"]
            )
            return loginResponse(
                request,
                next: next,
                message: "Too many failed sign-ins. Wait a few minutes and try again.",
                status: .tooManyRequests
            )
        }
        let rows = try await pool.query("SELECT role, password_hash FROM console_users WHERE username = $1", [user])
        let role = try rows.first.flatMap { ConsoleRole(rawValue: try $0.decode(0, as: String.self)) }
        let hash = try rows.first?.decode(1, as: String.self)
        guard try await PasswordHasher.verify(password, hash: hash), let role else {
            try await limiter.recordFailure(user: user, address: client)
            // Who tried and from where; never the password.
            logger.warning(
                "Console sign-in failed",
                metadata: ["console.user": "\(user)", "client.address": "\(client)"]
            )
            return loginResponse(request, next: next, message: "Wrong user name or password.", status: .unauthorized)
        }
        try await limiter.recordSuccess(user: user)
        let (token, _) = try await sessions.create(user: user, role: role)
        logger.info("Console sign-in", metadata: ["console.user": "\(user)", "client.address": "\(client)"])
        let target = next.flatMap { role.allowsPath($0) ? $0 : nil } ?? role.home.path
        return Responses.redirect(
            target,
            cookies: [
                Cookies.set(Cookies.session, token, secure: secure(request)),
                Cookies.clear(Cookies.login, secure: secure(request)),
            ]
        )
    }

    private func logout(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let form = try await FormFields.body(of: request, context: context)
        guard let session = context.session, let token = context.sessionToken else {
            return Responses.redirect("/console/login")
        }
        guard form["csrf_token"] == session.csrfToken else {
            logger.warning(
                "Console sign-out refused: missing or wrong anti-forgery token",
                metadata: ["console.user": "\(session.user)"]
            )
            return Responses.problem(
                .forbidden,
                title: "Form expired",
                message: "The sign-out was not sent from this console's page. Use the Sign out button.",
                session: session
            )
        }
        try await sessions.end(token: token)
        logger.info("Console sign-out", metadata: ["console.user": "\(session.user)"])
        return Responses.redirect("/console/login", cookies: [Cookies.clear(Cookies.session, secure: secure(request))])
    }

    // MARK: - Helpers

    /// The client's address: the first of `X-Forwarded-For` behind a trusted proxy, else the TCP peer.
    private func address(_ request: Request, _ context: ConsoleRequestContext) -> String {
        if configuration.trustProxy, let forwarded = request.headers[HTTPField.Name("X-Forwarded-For")!] {
            let first = forwarded.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) }
            if let first, !first.isEmpty { return String(first.prefix(64)) }
        }
        return context.peerAddress
    }

    /// Whether cookies get `Secure`: always, never, or when the request came over TLS as a trusted proxy says.
    private func secure(_ request: Request) -> Bool {
        switch configuration.secureCookies {
        case .always: true
        case .never: false
        case .auto:
            configuration.trustProxy
                && request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
        }
    }

    private func asset(_ text: String, type: String) -> Response {
        var response = Responses.text(text, contentType: type)
        response.headers[.cacheControl] = "public, max-age=3600"
        return response
    }

    /// The first instant of a `YYYY-MM` month, UTC.
    static func monthStart(_ month: String) -> Date? {
        let parts = month.split(separator: "-")
        guard parts.count == 2, let year = Int(parts[0]), let number = Int(parts[1]) else { return nil }
        var components = DateComponents()
        components.year = year
        components.month = number
        components.day = 1
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: components)
    }
}

extension ConsoleRole {
    /// Whether the role may open the page at `path` (for the page to go to after signing in).
    func allowsPath(_ path: String) -> Bool {
        let plain = path.split(separator: "?").first.map(String.init) ?? path
        switch plain {
        case "/console", "/console/": return allows(.overview)
        case "/console/customers": return allows(.customers)
        case "/console/customers.csv": return allows(.export)
        case "/console/model": return allows(.model)
        case "/console/desks": return allows(.desks)
        case "/console/retention": return allows(.retention)
        default: return plain.hasPrefix("/console/customers/") ? allows(.customer) : false
        }
    }
}
