import ArgumentParser
import Scoring

/// ScoringBenchmark's command line, read before anything is loaded: a misspelt flag or a count that is not a number
/// stops the run at once (exit 64, naming the flag) instead of running an hour with the defaults.
struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ScoringBenchmark",
        abstract: "Full rescoring end to end against the local PostgreSQL: CDNOW, then a synthetic base.",
        discussion: """
            Needs the servers of scripts/servers.sh (`source .local/env` first) and runs from the repository (it \
            reads Tests/Fixtures and scripts/lifetimes_bench.py). Every figure is printed as it is measured; the \
            RESULT lines sum the run up.
            """
    )

    @Option(help: ArgumentHelp("Customers in the synthetic base.", valueName: "n"))
    var customers = 1_000_000

    @Flag(help: "Skip the CDNOW master and the stage counts of each purchase model.")
    var skipCdnow = false

    @Flag(help: "Skip the base's outlets (the base report, `crm customers`, `GET /customers`, `crm report`).")
    var skipBase = false

    @Option(
        help: ArgumentHelp(
            "Also run lifetimes (PyPI) with this Python on the synthetic orders' CSV file, and compare.",
            valueName: "python"
        )
    )
    var lifetimes: String?

    @Option(
        help: ArgumentHelp(
            "lifetimes' purchase models, comma-separated (its Pareto/NBD is slow: use 100,000 customers).",
            valueName: "list"
        )
    )
    var lifetimesModels = PurchaseModelKind.allCases.map(\.rawValue).joined(separator: ",")

    @Flag(help: "No PostgreSQL: the synthetic orders go straight to the CSV file, for the two engines alone.")
    var engineOnly = false

    @Option(
        help: ArgumentHelp(
            "Alternating pairs of steady-state rescorings, BG/NBD alone and three purchase models (0: none).",
            valueName: "n"
        )
    )
    var rounds = 2

    @Flag(help: "Leave the synthetic base's database in place after a successful run and print its name.")
    var keepDatabase = false

    /// lifetimes' purchase models, read from `--lifetimes-models`.
    var lifetimesKinds: [PurchaseModelKind] {
        lifetimesModels.split(separator: ",").compactMap { PurchaseModelKind(rawValue: String($0)) }
    }

    func validate() throws {
        guard customers > 0 else { throw ValidationError("--customers needs a positive number, not \(customers)") }
        guard rounds >= 0 else { throw ValidationError("--rounds needs 0 or more, not \(rounds)") }
        for name in lifetimesModels.split(separator: ",") where PurchaseModelKind(rawValue: String(name)) == nil {
            let known = PurchaseModelKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("--lifetimes-models: unknown purchase model \(name) (known: \(known))")
        }
    }
}
