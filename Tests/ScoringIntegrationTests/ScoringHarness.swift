import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMRuntime
import CRMSupport
import Foundation
import Intake
import Scoring
import TestSupport

/// Loads orders into a test database the way intake stores them, and reads scores back.
enum ScoringHarness {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/cdnow")

    /// Stores order.v1 bodies through intake's own handler (no broker); returns how many were stored.
    @discardableResult
    static func store(_ bodies: [Data], pool: PostgresPool) async throws -> Int {
        let handler = OrderIntakeHandler(pool: pool, outbox: Outbox(of: .intake), baseCurrency: "USD")
        var stored = 0
        for start in stride(from: 0, to: bodies.count, by: 1000) {
            let batch = bodies[start..<min(start + 1000, bodies.count)].map { InboundMessage(body: $0) }
            let dispositions = try await handler.handle(batch)
            stored += dispositions.filter { if case .processed = $0 { true } else { false } }.count
        }
        return stored
    }

    /// Stores a CDNOW fixture file.
    static func storeCDNOW(_ file: String, pool: PostgresPool) async throws -> Int {
        let (_, bodies) = try OrderFile.bodies(of: fixtures.appendingPathComponent(file))
        return try await store(bodies, pool: pool)
    }

    /// One order.v1 body.
    static func order(
        _ id: String,
        customer: String,
        at time: String,
        amount: String,
        cost: String? = nil,
        kind: String = "purchase",
        original: String? = nil
    ) -> Data {
        var fields = [
            #""schema":"order.v1""#, #""order_id":"\#(id)""#, #""customer_id":"\#(customer)""#,
            #""occurred_at":"\#(time)""#, #""kind":"\#(kind)""#, #""amount":"\#(amount)""#, #""currency":"USD""#,
        ]
        if let cost { fields.append(#""cost":"\#(cost)""#) }
        if let original { fields.append(#""original_order_id":"\#(original)""#) }
        return Data(("{" + fields.joined(separator: ",") + "}").utf8)
    }

    /// The end of a UTC day, as `crm rescore --as-of YYYY-MM-DD` means it.
    /// A full rescoring of the database behind `pool` with the default settings, as `crm rescore` runs it.
    static func rescoring(_ pool: PostgresPool) -> FullRescoring {
        FullRescoring(
            pool: pool,
            outbox: Outbox(of: .scoring),
            settings: ScoringConfiguration(),
            logger: TestServers.logger
        )
    }

    static func endOfDay(_ date: String) throws -> Date {
        try Timestamp(rfc3339: date + "T00:00:00Z").date.addingTimeInterval(86_400 - 0.001)
    }

    /// A customer's object as `crm customer --json` prints it.
    static func customer(_ id: String, pool: PostgresPool) async throws -> [String: Any]? {
        guard let json = try await CustomerView.json(customerID: id, pool: pool) else { return nil }
        return try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    }

    /// Rows of `crm_outbox` from scoring.
    static func scoredEvents(pool: PostgresPool) async throws -> [CustomerScoredEvent] {
        let rows = try await pool.query("SELECT body FROM crm_outbox WHERE source = 'scoring' ORDER BY id")
        return try rows.map { row in try CustomerScoredEvent.decode(body: Data((row[0] ?? "").utf8)) }
    }
}

extension ScoringHarness {
    /// Runs crm-scoring's parts in-process, built exactly as the executable builds them, while `body` runs.
    static func whileScoring<T: Sendable>(
        _ environment: TestEnvironment,
        settings: [String: String] = [:],
        _ body: @escaping @Sendable (ServiceContext) async throws -> T
    ) async throws -> T {
        try await environment.whileRunning(
            "crm-scoring",
            topology: ScoringService.topology,
            settings: settings,
            parts: ScoringService.parts
        ) { contexts in try await body(contexts[0]) }
    }
}
