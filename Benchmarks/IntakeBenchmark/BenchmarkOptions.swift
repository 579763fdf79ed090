import ArgumentParser
import CRMSupport
import Foundation
import Intake
import TestSupport

/// The command line of the intake benchmark, read before anything runs: an unknown flag, an unknown stage or a count
/// that is not a positive number exits 64, naming it.
struct BenchmarkOptions: ParsableCommand {
    /// The stages the benchmark can run, in the order it runs them.
    enum Stage: String, CaseIterable {
        /// Decoding, validation and the content fingerprint on one core, no I/O.
        case decode
        /// The intake handler against PostgreSQL, batch after batch, without the broker.
        case handler
        /// A plain client publishing and consuming through a durable queue: the broker's ceiling.
        case raw
        /// Intake consuming what is published while it runs, until every order is stored.
        case e2e

        /// The stages of a comma-separated list.
        static func list(_ text: String) throws -> Set<Stage> {
            try Set(
                text.split(separator: ",").map { name in
                    guard let stage = Stage(rawValue: String(name)) else {
                        let known = allCases.map(\.rawValue).joined(separator: ", ")
                        throw ValidationError("unknown stage \(name) (known: \(known))")
                    }
                    return stage
                }
            )
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "IntakeBenchmark",
        abstract: "Measures intake throughput against the broker's own ceiling on this machine, both in the same run.",
        discussion: """
            Stages: decode (decoding, validation and the content fingerprint alone, one core), handler (the intake \
            handler against PostgreSQL, no broker), raw (a plain client publishing and consuming through a durable \
            queue), e2e (intake end to end: published, validated, stored once, outbox written). Needs the servers of \
            scripts/servers.sh: `source .local/env` first.
            """
    )

    /// The service's own defaults, as it reads them with nothing set.
    static let service = try! IntakeService.consumerSettings(Settings([:]))

    @Argument(help: "order.v1 JSON lines or a CDNOW file.")
    var file = "Tests/Fixtures/cdnow/CDNOW_master.txt"

    @Option(
        help: ArgumentHelp("Which stages to run, comma-separated (default all).", valueName: "list"),
        transform: Stage.list
    )
    var stages = Set(Stage.allCases)

    @Option(
        help: ArgumentHelp(
            "Repeat the measured stages n times, raw and e2e alternating, and print best and median.",
            valueName: "n"
        )
    )
    var runs = 1

    @Option(help: ArgumentHelp("Intake batch size (the service's default).", valueName: "n"))
    var batchSize = service.batchSize

    @Option(help: ArgumentHelp("Intake consumers in the process (the service's default).", valueName: "n"))
    var consumers = service.consumers

    /// Unacknowledged deliveries per consumer; `nil` is the service's default, twice the batch size.
    @Option(
        help: ArgumentHelp(
            "Unacknowledged deliveries per intake consumer (default twice the batch size).",
            valueName: "n"
        )
    )
    var prefetch: Int?

    /// Also measure the raw client with its acks held back this many milliseconds.
    @Option(
        help: ArgumentHelp("Also run the raw client acking each batch this many ms after it arrived.", valueName: "ms")
    )
    var ackDelay: Int?

    /// Most messages the publisher leaves unconfirmed (raw and e2e alike; `crm load-orders` publishes so too).
    @Option(
        help: ArgumentHelp(
            "Most messages the publisher leaves unconfirmed, raw and e2e alike (as `crm load-orders`).",
            valueName: "n"
        )
    )
    var publishWindow = 4000

    /// Run raw and e2e with the triggers that keep `customer_activity` dropped: what they cost end to end.
    @Flag(help: "e2e without the triggers that keep customer_activity (the handler stage measures both).")
    var withoutActivity = false

    func validate() throws {
        for (flag, count) in [
            ("--runs", runs), ("--batch-size", batchSize), ("--consumers", consumers), ("--prefetch", prefetch),
            ("--ack-delay", ackDelay), ("--publish-window", publishWindow),
        ] as [(String, Int?)] {
            if let count, count <= 0 { throw ValidationError("\(flag) needs a positive number, not \(count)") }
        }
    }
}

/// Best and median of repeated measurements.
struct Figures {
    var values: [Double] = []

    var best: Double { values.max() ?? 0 }
    var median: Double { values.isEmpty ? 0 : SampleStatistics.median(values) }
}
