import CRMSupport
import Foundation
import Intake
import TestSupport

/// The command line of the intake benchmark.
struct BenchmarkOptions {
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
    }

    var file = "Tests/Fixtures/cdnow/CDNOW_master.txt"
    var stages = Set(Stage.allCases)
    var runs = 1
    /// The service's own defaults, as it reads them with nothing set.
    static let service = try! IntakeService.consumerSettings(Settings([:]))
    var batchSize = service.batchSize
    var consumers = service.consumers
    /// Unacknowledged deliveries per consumer; `nil` is the service's default, twice the batch size.
    var prefetch: Int?
    /// Also measure the raw client with its acks held back this many milliseconds.
    var ackDelay: Int?
    /// Most messages the publisher leaves unconfirmed (raw and e2e alike; `crm load-orders` publishes so too).
    var publishWindow = 4000
    /// Run raw and e2e with the triggers that keep `customer_activity` dropped: what they cost end to end.
    var withoutActivity = false

    static let usage = """
        USAGE: IntakeBenchmark [FILE] [--stages decode,handler,raw,e2e] [--runs N] [--batch-size N] [--consumers N]
               [--prefetch N] [--ack-delay MS] [--publish-window N] [--without-activity]

        Measures intake throughput against the broker's own ceiling on this machine, both in the same run.
          FILE           order.v1 JSON lines or a CDNOW file (default Tests/Fixtures/cdnow/CDNOW_master.txt)
          --stages       which stages to run (default all):
                           decode   decoding, validation and the content fingerprint alone, one core
                           handler  the intake handler against PostgreSQL, no broker
                           raw      a plain client publishing and consuming through a durable queue
                           e2e      intake end to end: published, validated, stored once, outbox written
          --runs N       repeat the measured stages N times, raw and e2e alternating, and print best and median
          --batch-size N intake batch size (default the service's, \(service.batchSize))
          --consumers N  intake consumers in the process (default the service's, \(service.consumers))
          --prefetch N   unacknowledged deliveries per intake consumer (default twice the batch size)
          --ack-delay MS also run the raw client acking each batch MS ms after it arrived, consuming on meanwhile
          --publish-window N most messages the publisher leaves unconfirmed, raw and e2e alike (default 4000, as `crm load-orders`)
          --without-activity e2e without the triggers that keep customer_activity (the handler stage measures both)
        Needs the servers of scripts/servers.sh: `source .local/env` first.
        """

    static func parse(_ arguments: [String]) throws -> BenchmarkOptions {
        var options = BenchmarkOptions()
        var rest = arguments[...]
        func value(_ name: String) throws -> String {
            guard let next = rest.popFirst() else { throw UsageError("\(name) needs a value") }
            return next
        }
        func count(_ name: String) throws -> Int {
            guard let number = Int(try value(name)), number > 0 else {
                throw UsageError("\(name) needs a positive number")
            }
            return number
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "-h", "--help":
                throw UsageError(nil)
            case "--stages":
                let names = try value(argument).split(separator: ",")
                options.stages = []
                for name in names {
                    guard let stage = Stage(rawValue: String(name)) else { throw UsageError("unknown stage \(name)") }
                    options.stages.insert(stage)
                }
            case "--runs": options.runs = try count(argument)
            case "--without-activity": options.withoutActivity = true
            case "--batch-size": options.batchSize = try count(argument)
            case "--consumers": options.consumers = try count(argument)
            case "--prefetch": options.prefetch = try count(argument)
            case "--ack-delay": options.ackDelay = try count(argument)
            case "--publish-window": options.publishWindow = try count(argument)
            case _ where argument.hasPrefix("-"): throw UsageError("unknown option \(argument)")
            default: options.file = argument
            }
        }
        return options
    }
}

/// A command line the benchmark cannot run; `nil` asks for the usage alone.
struct UsageError: Error {
    var message: String?
    init(_ message: String?) { self.message = message }
}

/// Best and median of repeated measurements.
struct Figures {
    var values: [Double] = []

    var best: Double { values.max() ?? 0 }
    var median: Double { values.isEmpty ? 0 : SampleStatistics.median(values) }
}
