import HTTPTypes
import Hummingbird

/// Every path under `/console/` but the sign-in page and the static files needs a live session: without one, a page
/// request is sent to sign in (coming back afterwards), and anything else answers 401. Nothing the console shows is
/// reachable without a session.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = ConsoleRequestContext

    let sessions: SessionStore

    static let open: Set<String> = ["/console/login"]

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/console"), !Self.open.contains(path), !path.hasPrefix("/console/assets/") else {
            return try await next(request, context)
        }
        var context = context
        if let token = request.cookies[Cookies.session]?.value, let session = try await sessions.find(token: token) {
            context.session = session
            context.sessionToken = token
            context.logger[metadataKey: "console.user"] = "\(session.user)"
            return try await next(request, context)
        }
        guard request.method == .get || request.method == .head else {
            return Responses.problem(
                .unauthorized,
                title: "Signed out",
                message: "Your session has ended. Sign in again.",
                session: nil
            )
        }
        // Back to where the user was going after signing in: the path and query as sent (only ever a /console/
        // path of this site; the sign-in page checks again).
        let target = request.uri.string
        return Responses.redirect("/console/login?next=" + Cookies.percentEncoded(target))
    }
}

/// The console's cookies.
enum Cookies {
    /// The session cookie: the session's token, `HttpOnly`, `SameSite=Strict`, path `/console`, gone when the
    /// browser closes (the server ends the session earlier when idle).
    static let session = "crm_console_session"
    /// The sign-in form's anti-forgery token (double-submit: the form's hidden field must equal it).
    static let login = "crm_console_login"

    static func set(_ name: String, _ value: String, secure: Bool) -> String {
        "\(name)=\(value); Path=/console; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    static func clear(_ name: String, secure: Bool) -> String {
        "\(name)=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// Percent-encodes everything but unreserved characters (for a query value).
    static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result += "%" + String(byte, radix: 16, uppercase: true).leftPaddedHex
            }
        }
        return result
    }
}

extension String {
    fileprivate var leftPaddedHex: String { count == 1 ? "0" + self : self }
}
