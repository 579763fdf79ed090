import Foundation
import TestSupport
import Testing

@testable import CRMAMQP
@testable import CRMOutbox
@testable import CRMPostgres
@testable import CRMSupport

/// The outbox's two paths against the real servers: rows handed to the running relay at commit, and the poll that
/// takes what nobody holds a lease on.
@Suite("Outbox hand-over")
struct OutboxHandOverTests {
    struct Abort: Error {}

    static func order(_ index: Int) -> OutboundMessage {
        OutboundMessage(
            exchange: Topology.ordersExchange,
            routingKey: "order.v1",
            body: Data(#"{"n":\#(index)}"#.utf8),
            messageID: "m-\(index)"
        )
    }

    /// Message ids on `intake.orders` until `count` arrived or `wait` passed.
    static func received(_ count: Int, within wait: Duration, environment: TestEnvironment) async throws -> [String] {
        let consumer = AMQPConsumer(
            settings: environment.amqp,
            queue: Topology.intakeQueue,
            prefetch: 100,
            logger: TestServers.logger
        )
        var ids: [String] = []
        let deadline = ContinuousClock.now + wait
        while ids.count < count, ContinuousClock.now < deadline {
            let batch = try await consumer.nextBatch(maxCount: 100, wait: .milliseconds(100), linger: .zero)
            ids += batch.map { $0.messageID ?? "?" }
            if let last = batch.last { try await consumer.acknowledge(upTo: last) }
        }
        await consumer.close()
        return ids
    }

    static func outboxRows(_ environment: TestEnvironment) async throws -> (all: Int, leased: Int) {
        let row = try await environment.pool.query(
            "SELECT count(*), count(claimed_until) FROM crm_outbox WHERE source = 'test'"
        )[0]
        return (try row.decode(0), try row.decode(1))
    }

    /// Runs `body` with a relay of source `test` running, which polls only every minute: what arrives within seconds
    /// came through the hand-over.
    static func withRunningRelay(
        maxBacklog: Int? = nil,
        _ body: (TestEnvironment, OutboxRelay) async throws -> Void
    ) async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = AMQPPublisher(
                settings: environment.amqp,
                name: "t",
                topology: .intake,
                logger: TestServers.logger
            )
            let relay = OutboxRelay(
                source: "test",
                pool: environment.pool,
                publisher: publisher,
                idlePoll: .seconds(60),
                maxBacklog: maxBacklog,
                logger: TestServers.logger
            )
            try await publisher.connect()  // declares the queue the tests read
            let running = Task { try await relay.run() }
            defer { running.cancel() }
            try await Task.sleep(for: .milliseconds(200))  // the first poll (empty) has run
            try await body(environment, relay)
            await publisher.close()
        }
    }

    /// `value` once `done` holds for it, or after about 2.5 s.
    static func settled<T>(_ value: () async throws -> T, _ done: (T) -> Bool) async throws -> T {
        var current = try await value()
        for _ in 0..<50 where !done(current) {
            try await Task.sleep(for: .milliseconds(50))
            current = try await value()
        }
        return current
    }

    @Test func committedRowsGoOutFromMemoryAtOnceAndAreDeleted() async throws {
        try await Self.withRunningRelay { environment, relay in
            try await environment.pool.transaction { connection in
                try Outbox(relay: relay).enqueue((0..<3).map { Self.order($0) }, on: connection)
            }
            try? await environment.pool.transaction { connection in
                try Outbox(relay: relay).enqueue([Self.order(99)], on: connection)
                throw Abort()
            }
            let ids = try await Self.received(3, within: .seconds(10), environment: environment)
            #expect(ids.sorted() == ["m-0", "m-1", "m-2"])
            #expect(try await Self.received(1, within: .seconds(1), environment: environment).isEmpty)
            let rows = try await Self.settled({ try await Self.outboxRows(environment) }) { $0.all == 0 }
            #expect(rows.all == 0, "published rows are deleted")
        }
    }

    @Test func outsideATransactionBlockRowsGoOutWhenTheStatementReturns() async throws {
        try await Self.withRunningRelay { environment, relay in
            try await environment.pool.withConnection { connection in
                try await connection.withoutTransaction { connection in
                    try Outbox(relay: relay).enqueue((0..<2).map { Self.order($0) }, on: connection)
                }
            }
            // A statement that fails after the lease was taken gives the reservation back.
            let broken = OutboundMessage(
                exchange: Topology.ordersExchange,
                routingKey: "order\u{0}v1",
                body: Data("{}".utf8),
                messageID: "m-7"
            )
            await #expect(throws: PostgresError.self) {
                try await environment.pool.withConnection { connection in
                    try await connection.withoutTransaction { connection in
                        try Outbox(relay: relay).enqueue([broken], on: connection)
                    }
                }
            }
            let ids = try await Self.received(2, within: .seconds(10), environment: environment)
            #expect(ids.sorted() == ["m-0", "m-1"])
            #expect(try await Self.settled({ relay.backlog }) { $0 == 0 } == 0)
        }
    }

    @Test func withoutARunningRelayRowsAreUnleasedAndThePollTakesThem() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = AMQPPublisher(
                settings: environment.amqp,
                name: "t",
                topology: .intake,
                logger: TestServers.logger
            )
            let relay = OutboxRelay(
                source: "test",
                pool: environment.pool,
                publisher: publisher,
                logger: TestServers.logger
            )
            try await environment.pool.transaction { connection in
                try Outbox(relay: relay).enqueue((0..<3).map { Self.order($0) }, on: connection)
            }
            #expect(try await Self.outboxRows(environment) == (3, 0))
            #expect(try await relay.relayOnce() == 3)
            #expect(try await Self.outboxRows(environment) == (0, 0))
            await publisher.close()
        }
    }

    /// A large body (a batch's scoring event) is stored compressed with LZ4, and comes out of the poll unchanged.
    @Test func largeBodiesAreStoredWithLZ4AndComeBackWhole() async throws {
        try await TestServers.withEnvironment { environment in
            let entries = (0..<2_000).map { #"{"customer_id":"C-\#($0)","order_ids":["A-\#($0)"]}"# }
            let body = Data(("{\"customers\":[" + entries.joined(separator: ",") + "]}").utf8)
            try await environment.pool.transaction { connection in
                try Outbox(source: "test").enqueue(
                    [
                        OutboundMessage(
                            exchange: Topology.eventsExchange,
                            routingKey: "order.accepted",
                            body: body,
                            messageID: "big"
                        )
                    ],
                    on: connection
                )
            }
            let stored = try await environment.pool.query(
                "SELECT pg_column_compression(body), pg_column_size(body), body FROM crm_outbox WHERE message_id = 'big'"
            )
            let row = try #require(stored.first)
            #expect(try row.decode(0, as: String.self) == "lz4")
            #expect(try row.decode(1, as: Int.self) < body.count / 4)
            #expect(Data(try row.decode(2, as: String.self).utf8) == body)
        }
    }

    @Test func aLeaseKeepsThePollAwayUntilItExpires() async throws {
        try await TestServers.withEnvironment { environment in
            let publisher = AMQPPublisher(
                settings: environment.amqp,
                name: "t",
                topology: .intake,
                logger: TestServers.logger
            )
            let relay = OutboxRelay(
                source: "test",
                pool: environment.pool,
                publisher: publisher,
                logger: TestServers.logger
            )
            // Rows a crashed process had leased for another hour, and one nobody holds.
            try await environment.pool.execute(
                """
                INSERT INTO crm_outbox (source, exchange, routing_key, message_id, body, claimed_until)
                SELECT 'test', $1, 'order.v1', 'm-' || n, '{}', CASE WHEN n < 3 THEN now() + interval '1 hour' END
                FROM generate_series(0, 3) AS n
                """,
                [Topology.ordersExchange]
            )
            #expect(try await relay.relayOnce() == 1)
            #expect(try await relay.relayOnce() == 0)
            // The hour has passed.
            try await environment.pool.execute(
                "UPDATE crm_outbox SET claimed_until = now() - interval '1 second' WHERE source = 'test'"
            )
            #expect(try await relay.relayOnce() == 3)
            let ids = try await Self.received(4, within: .seconds(10), environment: environment)
            #expect(ids.sorted() == ["m-0", "m-1", "m-2", "m-3"])
            await publisher.close()
        }
    }

    @Test func aFullBacklogLeavesRowsToThePollWhichTheCommitStarts() async throws {
        try await Self.withRunningRelay(maxBacklog: 2) { environment, relay in
            let leased = try await environment.pool.transaction { connection in
                try Outbox(relay: relay).enqueue((0..<3).map { Self.order($0) }, on: connection)
                return try connection.query(
                    "SELECT count(claimed_until) FROM crm_outbox WHERE source = 'test'"
                )[0].decode(0, as: Int.self)
            }
            #expect(leased == 0, "three rows do not fit a backlog of two")
            let ids = try await Self.received(3, within: .seconds(10), environment: environment)
            #expect(ids.sorted() == ["m-0", "m-1", "m-2"])
        }
    }
}
