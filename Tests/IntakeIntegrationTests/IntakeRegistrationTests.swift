import CRMAMQP
import CRMOutbox
import CRMPostgres
import CRMRuntime
import CRMSupport
import Foundation
import Intake
import TestSupport
import Testing

/// `customer.v1` on `crm.customers`: customers registered without an order, through the running service.
@Suite("Intake registrations")
struct IntakeRegistrationTests {
    static func registration(_ fields: String) -> OutboundMessage {
        OutboundMessage(
            exchange: Topology.customersExchange,
            routingKey: "customer.v1",
            body: Data(#"{"schema":"customer.v1",\#(fields)}"#.utf8)
        )
    }

    @Test func registrationsAreStoredAndInvalidOnesDeadLetteredWithTheirReason() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = IntakeHarness.publisher(environment)
            try await IntakeHarness.whileRunning(environment) {
                try await publisher.publish([
                    Self.registration(
                        #""customer_id":"P-1","registered_at":"2026-11-20T10:15:00+08:00","channel":"web","#
                            + #""name":"Li Lei","email":"li@example.com","region":"east","type":"final""#
                    ),
                    Self.registration(#""customer_id":"P-2","registered_at":"2026-11-21T09:00:00Z""#),
                    Self.registration(#""customer_id":"P-3""#),
                    Self.registration(#""customer_id":"P-4","registered_at":"2026-11-21T09:00:00Z","email":"nobody""#),
                    Self.registration(#""customer_id":"P-5","registered_at":"2026-11-21T09:00:00Z","type":"reseller""#),
                    Self.registration(#""customer_id":7,"registered_at":"2026-11-21T09:00:00Z""#),
                    // A later update: absent fields keep what is known, the earlier registration time stays.
                    Self.registration(
                        #""customer_id":"P-1","registered_at":"2026-11-22T10:15:00+08:00","region":"west""#
                    ),
                ])
                let stored = try await eventually {
                    let region = try await environment.pool.query(
                        "SELECT region FROM customers WHERE customer_id = 'P-1'"
                    ).first?[0]
                    let count = try await environment.pool.query("SELECT count(*) FROM customers")[0].decode(
                        0,
                        as: Int.self
                    )
                    return region == "west" && count == 2
                }
                #expect(stored)
            }
            let rows = try await environment.pool.query(
                """
                SELECT customer_id, name, email, region, customer_type, registration_channel,
                       to_char(registered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
                FROM customers ORDER BY customer_id
                """
            )
            #expect(
                rows.map { row in (0..<7).map { row[$0] ?? "-" } } == [
                    ["P-1", "Li Lei", "li@example.com", "west", "final", "web", "2026-11-20T02:15:00"],
                    ["P-2", "-", "-", "-", "-", "-", "2026-11-21T09:00:00"],
                ]
            )
            let letters = try await IntakeHarness.deadLetters(
                environment,
                expecting: 4,
                queue: "intake.customers.dead"
            )
            #expect(letters.values.map(\.count).reduce(0, +) == 4)
            #expect(letters.keys.contains { $0.hasPrefix("registered_at") })
            #expect(letters.keys.contains { $0.hasPrefix("email") })
            #expect(letters.keys.contains { $0.hasPrefix("type") })
            #expect(letters.keys.contains { $0.hasPrefix("customer_id") })
        }
    }
}
