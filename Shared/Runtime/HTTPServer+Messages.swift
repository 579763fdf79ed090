import Foundation
import NIOHTTP1

extension HTTPServer {
    /// A request as the routes see it.
    public struct Request: Sendable {
        public var method: String
        /// The path without its query string, percent-decoded.
        public var path: String
        /// The query parameters, percent-decoded (`+` read as a space), the last of a repeated name winning.
        public var query: [String: String]
        /// The query parameters in order, repeats kept.
        public var queryItems: [QueryItem]
        /// The request's header fields in order.
        public var headers: [(name: String, value: String)]

        /// One `name=value` of a query string.
        public struct QueryItem: Sendable, Hashable {
            public var name: String
            public var value: String

            public init(name: String, value: String) {
                self.name = name
                self.value = value
            }
        }

        /// A request from its parts (tests build them directly).
        public init(
            method: String = "GET",
            path: String,
            queryItems: [QueryItem] = [],
            headers: [(name: String, value: String)] = []
        ) {
            self.method = method
            self.path = path
            self.queryItems = queryItems
            self.query = Dictionary(queryItems.map { ($0.name, $0.value) }) { _, last in last }
            self.headers = headers
        }

        init(_ head: HTTPRequestHead) {
            let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            let rawPath = String(parts.first ?? "/")
            self.init(
                method: head.method.rawValue,
                path: rawPath.removingPercentEncoding ?? rawPath,
                queryItems: parts.count > 1 ? Self.queryItems(String(parts[1])) : [],
                headers: head.headers.map { ($0.name, $0.value) }
            )
        }

        /// The value of the first header field named `name` (case-insensitive), if any.
        public func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }

        /// Whether the client prefers `type` over `alternative` by its `Accept` header (RFC 9110): each type takes the
        /// quality of the most specific range that matches it (`text/csv` before `text/*` before `*/*`), and `type`
        /// wins only with a higher quality. Without an `Accept` header, or with `*/*` alone, `alternative` (the
        /// route's default) wins.
        public func prefers(_ type: String, over alternative: String) -> Bool {
            guard let accept = header("Accept") else { return false }
            let ranges = accept.split(separator: ",").map { range in
                let parameters = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                let q = parameters.dropFirst().first { $0.lowercased().hasPrefix("q=") }.flatMap {
                    Double($0.dropFirst(2))
                }
                return (name: parameters.first?.lowercased() ?? "", q: q ?? 1)
            }
            func quality(of mediaType: String) -> Double {
                let major = mediaType.split(separator: "/").first.map { "\($0)/*" } ?? ""
                for name in [mediaType, major, "*/*"] {
                    if let range = ranges.first(where: { $0.name == name }) { return range.q }
                }
                return 0
            }
            return quality(of: type) > quality(of: alternative)
        }

        /// Splits a query string into its items: `&`-separated, `+` a space, percent-decoded; a malformed escape
        /// leaves the text as sent.
        public static func queryItems(_ query: String) -> [QueryItem] {
            query.split(separator: "&").map { pair in
                let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                func decode(_ text: Substring) -> String {
                    let spaced = text.replacingOccurrences(of: "+", with: " ")
                    return spaced.removingPercentEncoding ?? spaced
                }
                return QueryItem(name: decode(keyValue[0]), value: keyValue.count > 1 ? decode(keyValue[1]) : "")
            }
        }
    }

    /// A response: a text body, or a body streamed by a producer (sent chunked, for exports of any size).
    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        /// The body of a text response (ignored when ``stream`` is set).
        public var body: String
        /// Extra header fields.
        public var headers: [(name: String, value: String)] = []
        /// Writes the body in pieces, when set.
        public var stream: (@Sendable (BodyWriter) async throws -> Void)?

        public init(status: Int = 200, contentType: String = "text/plain; charset=utf-8", body: String) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }

        /// A JSON response.
        public static func json(_ body: String, status: Int = 200) -> Response {
            Response(status: status, contentType: "application/json", body: body)
        }

        /// A streamed response: the head is sent first, then whatever `producer` writes, in order.
        public static func streaming(
            status: Int = 200,
            contentType: String,
            headers: [(name: String, value: String)] = [],
            _ producer: @escaping @Sendable (BodyWriter) async throws -> Void
        ) -> Response {
            var response = Response(status: status, contentType: contentType, body: "")
            response.headers = headers
            response.stream = producer
            return response
        }

        static let notFound = Response(status: 404, body: "not found\n")
    }

    /// Where a streamed response's producer writes: each write is sent as one chunk, and waits while the client
    /// is slower than the producer.
    public struct BodyWriter: Sendable {
        let sink: @Sendable ([UInt8]) async throws -> Void

        /// Sends `bytes` (nothing for an empty buffer).
        public func write(_ bytes: [UInt8]) async throws {
            guard !bytes.isEmpty else { return }
            try await sink(bytes)
        }
    }
}
