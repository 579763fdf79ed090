import CRMRuntime
import Testing

@Suite("HTTP requests: query strings and content negotiation")
struct HTTPRequestTests {
    @Test("query items keep their order and repeats, read + as a space and undo percent escapes")
    func queryItems() {
        let request = HTTPServer.Request(
            path: "/customers",
            queryItems: HTTPServer.Request.queryItems(
                "tier=gold&region=North+East&region=%E4%B8%9C%E9%83%A8%2C%22x%22&flag"
            )
        )
        #expect(request.queryItems.map(\.name) == ["tier", "region", "region", "flag"])
        #expect(request.queryItems[1].value == "North East")
        #expect(request.queryItems[2].value == "东部,\"x\"")
        #expect(request.queryItems[3].value == "")
        #expect(request.query["region"] == "东部,\"x\"")
        #expect(HTTPServer.Request.queryItems("a=%zz").first?.value == "%zz")
    }

    @Test("Accept chooses CSV only when the client prefers it to JSON")
    func negotiation() {
        func prefersCSV(_ accept: String?) -> Bool {
            HTTPServer.Request(path: "/", headers: accept.map { [("accept", $0)] } ?? []).prefers(
                "text/csv",
                over: "application/json"
            )
        }
        #expect(prefersCSV("text/csv"))
        #expect(prefersCSV("text/csv; charset=utf-8"))
        #expect(prefersCSV("application/json;q=0.5, text/csv"))
        #expect(prefersCSV("text/*"))
        #expect(!prefersCSV(nil))
        #expect(!prefersCSV("*/*"))
        #expect(!prefersCSV("application/json"))
        #expect(!prefersCSV("text/csv;q=0.4, application/json"))
        #expect(!prefersCSV("text/csv;q=0"))
    }
}

extension HTTPRequestTests {
    @Test("the most specific range decides a type's quality")
    func specificRangesWin() {
        let request = HTTPServer.Request(path: "/", headers: [("Accept", "text/csv;q=0.2, */*;q=0.9")])
        #expect(!request.prefers("text/csv", over: "application/json"))
        let csv = HTTPServer.Request(path: "/", headers: [("Accept", "application/json;q=0.1, */*")])
        #expect(csv.prefers("text/csv", over: "application/json"))
    }
}
