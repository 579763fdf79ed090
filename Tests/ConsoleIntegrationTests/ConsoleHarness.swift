import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMRuntime
import CRMSupport
import Console
import Foundation
import Intake
import Scoring
import TestSupport
import Testing

/// Runs crm-console in-process with its own wiring, loads data the way the services store it, and signs in.
enum ConsoleHarness {
    static let fixtures = Repository.file("Tests/Fixtures/cdnow")

    /// Runs the console (as its own database role `crm_console`, with the grants `crm migrate` gives it) while
    /// `body` runs; `body` is given its port once it is ready.
    static func whileRunning<T: Sendable>(
        _ environment: TestEnvironment,
        settings: [String: String] = [:],
        _ body: @escaping @Sendable (Int) async throws -> T
    ) async throws -> T {
        try await environment.grantServiceAccounts()
        let port = TestPorts.unused()
        var variables = settings
        variables["CRM_HTTP_PORT"] = "\(port)"
        variables["CRM_DATABASE_URL"] = try environment.databaseURL(as: .console)
        return try await environment.whileRunning(
            "crm-console",
            topology: nil,
            settings: variables,
            options: ConsoleService.hostOptions,
            parts: ConsoleService.parts
        ) { _ in
            let ready = try await eventually {
                try await HTTPClient.request(port: port, "/health/ready").status == 200
            }
            #expect(ready, "the console did not become ready")
            return try await body(port)
        }
    }

    /// Adds a console user as `crm users add` does.
    static func addUser(_ name: String, role: ConsoleRole, password: String, pool: PostgresPool) async throws {
        _ = try await ConsoleUsers.add(name: name, role: role, password: password, replace: true, pool: pool)
    }

    /// Signs in through the form; returns the session cookie's value (nil when refused) and the answer.
    static func signIn(port: Int, user: String, password: String) async throws -> (session: String?, answer: HTTPAnswer)
    {
        let form = try await HTTPClient.request(port: port, "/console/login")
        let token = try #require(form.cookie("crm_console_login")?.value)
        let answer = try await HTTPClient.request(
            .POST,
            port: port,
            "/console/login",
            headers: [("Cookie", "crm_console_login=\(token)")],
            form: [("csrf_token", token), ("username", user), ("password", password)]
        )
        return (answer.cookie("crm_console_session")?.value, answer)
    }

    /// GET with a session cookie.
    static func get(port: Int, _ path: String, session: String?) async throws -> HTTPAnswer {
        try await HTTPClient.request(
            port: port,
            path,
            headers: session.map { [("Cookie", "crm_console_session=\($0)")] } ?? []
        )
    }

    // MARK: - Data

    /// Stores order.v1 bodies through intake's own handler (no broker).
    static func store(_ bodies: [Data], pool: PostgresPool) async throws {
        let handler = OrderIntakeHandler(pool: pool, outbox: Outbox(of: .intake), baseCurrency: "USD")
        for start in stride(from: 0, to: bodies.count, by: 2000) {
            let batch = bodies[start..<min(start + 2000, bodies.count)].map { InboundMessage(body: $0) }
            _ = try await handler.handle(batch)
        }
    }

    /// The CDNOW master file, as `crm load-orders` publishes it.
    static func storeCDNOW(pool: PostgresPool) async throws {
        let (_, bodies) = try OrderFile.bodies(of: fixtures.appendingPathComponent("CDNOW_master.txt"))
        try await store(bodies, pool: pool)
    }

    /// One order.v1 body; `name` goes into the customer's details.
    static func order(_ id: String, customer: String, at time: String, amount: String, name: String? = nil) -> Data {
        var object: [String: Any] = [
            "schema": "order.v1", "order_id": id, "customer_id": customer, "occurred_at": time, "amount": amount,
            "currency": "USD",
        ]
        if let name { object["customer"] = ["name": name, "region": "east", "type": "final"] }
        return (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
    }

    /// A full rescoring as `crm rescore --as-of DAY` runs it (the end of that UTC day).
    /// A full rescoring as of the end of `day`; with `validatingHoldoutDays`, a scheduled holdout validation of the
    /// purchase models on that many days before it, stored with the model.
    static func rescore(pool: PostgresPool, asOf day: String, validatingHoldoutDays: Int? = nil) async throws {
        var settings = ScoringConfiguration()
        settings.validationHoldoutDays = validatingHoldoutDays
        let rescoring = FullRescoring(
            pool: pool,
            outbox: Outbox(of: .scoring),
            settings: settings,
            logger: TestServers.logger
        )
        let end = try Timestamp(rfc3339: day + "T00:00:00Z").date.addingTimeInterval(86_400 - 0.001)
        _ = try await rescoring.run(asOf: end)
    }

    /// The customer whose id and name are markup: every page must show it as text.
    static let hostile = "<script>alert(1)</script>"

    /// A small base: a few customers, the hostile one among them, scored as of 1998-06-30.
    static func storeSmallBase(pool: PostgresPool) async throws {
        var bodies: [Data] = []
        for customer in 0..<12 {
            for purchase in 0..<(customer % 4 + 1) {
                bodies.append(
                    order(
                        "o-\(customer)-\(purchase)",
                        customer: "c-\(customer)",
                        at:
                            "1997-\(String(format: "%02d", 1 + purchase * 3))-\(String(format: "%02d", 1 + customer))T10:00:00Z",
                        amount: "\(20 + customer * 7).50"
                    )
                )
            }
        }
        bodies.append(order("x-1", customer: hostile, at: "1997-02-03T10:00:00Z", amount: "41.00", name: hostile))
        bodies.append(order("x-2", customer: hostile, at: "1997-08-03T10:00:00Z", amount: "17.25", name: hostile))
        try await store(bodies, pool: pool)
        _ = try await CustomerFlags.flag(
            .doNotRetain,
            customerID: hostile,
            note: "<b onmouseover=alert(2)>x</b>",
            pool: pool
        )
        try await rescore(pool: pool, asOf: "1998-06-30")
    }
}
