import CRMSupport
import HTTPTypes
import Hummingbird
import Logging
import Metrics

/// Headers every console response carries, and the last word on errors: a handler that throws answers 500 with the
/// console's page (and the same headers), its error logged, never shown.
///
/// - `Content-Security-Policy`: scripts and styles only from the console's own files (no inline script, no inline
///   style, nothing from elsewhere), images only its own or inline data, forms post only to itself, no framing.
/// - `X-Frame-Options: DENY` for browsers that predate `frame-ancestors`; `X-Content-Type-Options: nosniff`;
///   `Referrer-Policy: same-origin` (a customer id in a URL never leaves in a Referer).
/// - `Cache-Control: no-store` on everything behind sign-in: pages and exports carry personal data, and a shared
///   computer's cache must not keep them. The console's static files may be cached.
struct SecurityMiddleware: RouterMiddleware {
    typealias Context = ConsoleRequestContext

    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'"

    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        var response: Response
        do {
            if let refused = try Self.refusal(request) {
                response = refused
            } else {
                response = try await next(request, context)
            }
        } catch let error as HTTPError {
            response = Responses.problem(
                error.status,
                title: error.status.reasonPhrase,
                message: error.body ?? "The request cannot be answered.",
                session: nil
            )
        } catch {
            context.logger.error(
                "Console request failed",
                metadata: ["http.path": "\(Self.pageLabel(request.uri.path))", "error": "\(error)"]
            )
            response = Responses.problem(
                .internalServerError,
                title: "Something went wrong",
                message: "The page could not be made; the error is in the console's log. Try again in a moment.",
                session: context.session
            )
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[Self.frameOptions] = "DENY"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[Self.referrerPolicy] = "same-origin"
        if response.headers[.cacheControl] == nil {
            response.headers[.cacheControl] = "no-store"
        }
        let page = Self.pageLabel(request.uri.path)
        Counter(
            label: "crm_console_requests_total",
            dimensions: [("page", page), ("status", "\(response.status.code)")]
        ).increment()
        Timer(label: "crm_console_response_seconds", dimensions: [("page", page)], preferredDisplayUnit: .seconds)
            .recordInterval(since: started)
        return response
    }

    /// The paths that take a form post.
    static let posts: Set<String> = ["/console/login", "/console/logout"]

    /// A request refused before routing: a method the path does not take (405, as every service answers), or a
    /// path with a trailing slash the router would otherwise take for the path without it (404).
    static func refusal(_ request: Request) throws -> Response? {
        let path = request.uri.path
        let method = request.method
        if method != .get && method != .head && !(method == .post && posts.contains(path)) {
            var response = Responses.text(
                "method not allowed\n",
                contentType: "text/plain; charset=utf-8",
                status: .methodNotAllowed
            )
            response.headers[.allow] = posts.contains(path) ? "POST" : "GET, HEAD"
            return response
        }
        if path.count > 1, path.hasSuffix("/"), path != "/console/" {
            throw HTTPError(.notFound, message: "No such page.")
        }
        return nil
    }

    /// The page of a path as a metric label: a closed set, so that customer ids never become label values.
    static func pageLabel(_ path: String) -> String {
        switch path {
        case "/console", "/console/": "overview"
        case "/console/login": "login"
        case "/console/logout": "logout"
        case "/console/customers": "customers"
        case "/console/customers.csv": "export"
        case "/console/model": "model"
        case "/console/desks": "desks"
        case "/console/retention": "retention"
        case "/health/live", "/health/ready": "health"
        case "/metrics": "metrics"
        default:
            if path.hasPrefix("/console/customers/") {
                "customer"
            } else if path.hasPrefix("/console/assets/") {
                "assets"
            } else {
                "other"
            }
        }
    }
}

extension Timer {
    /// Records the time since `start`.
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(
            Int64(elapsed.components.seconds) * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        )
    }
}
