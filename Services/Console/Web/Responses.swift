import CRMRuntime
import HTTPTypes
import Hummingbird
import NIOCore

/// Responses the console sends.
enum Responses {
    /// A page of HTML.
    static func page(_ html: HTML, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html.output)))
    }

    /// `303 See Other` to `location` (after a form post, and to the sign-in page).
    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    /// A short page saying what went wrong, in the console's look when a session is known.
    static func problem(
        _ status: HTTPResponse.Status,
        title: String,
        message: String,
        session: ConsoleSession?
    ) -> Response {
        var html = HTML()
        Layout.write(into: &html, title: title, current: nil, session: session) { html in
            html.element("section", .init("class", "panel notice")) { html in
                html.element("h2", text: title)
                html.element("p", text: message)
            }
        }
        return page(html, status: status)
    }

    /// Plain text (health, metrics).
    static func text(_ body: String, contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Form fields and query strings.
enum FormFields {
    /// The fields of an `application/x-www-form-urlencoded` body or a query string, in order.
    static func parse(_ text: String) -> [(name: String, value: String)] {
        HTTPServer.Request.queryItems(text).map { ($0.name, $0.value) }
    }

    /// The query items of a request, in order, `+` read as a space.
    static func query(of request: Request) -> [(name: String, value: String)] {
        parse(request.uri.query ?? "")
    }

    /// The body of a form post, at most `context.maxUploadSize` bytes.
    static func body(of request: Request, context: ConsoleRequestContext) async throws -> [String: String] {
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        let text = String(buffer: buffer)
        return Dictionary(parse(text).map { ($0.name, $0.value) }) { first, _ in first }
    }
}
