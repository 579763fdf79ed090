import Foundation
import TestSupport
import Testing

extension SystemTests {
    /// `crm … --help` as an operator reads it, for every command and subcommand the help itself lists.
    @Suite("Command help")
    struct CommandHelpTests {
        /// The help wraps each paragraph to the terminal's width (`COLUMNS`), keeping the line breaks of the text it
        /// was given: a paragraph broken across source lines shows as short lines in the middle of a sentence.
        @Test func everyHelpWrapsItsParagraphsToTheTerminal() throws {
            let width = 80
            var pending: [[String]] = [[]]
            var read: [String] = []
            while let path = pending.popLast() {
                let command = (["crm"] + path).joined(separator: " ")
                let help = try Shell.execute("crm", arguments: path + ["--help"], environment: ["COLUMNS": "\(width)"])
                #expect(help.status == 0, "\(command) --help")
                read.append(command)
                let lines = help.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                // The prose (overview and discussion) comes before the usage line.
                let prose = lines.prefix { !$0.hasPrefix("USAGE:") }
                for (line, next) in zip(prose, prose.dropFirst()) where !line.isEmpty && !next.isEmpty {
                    let word = next.prefix { $0 != " " }
                    #expect(
                        line.count + 1 + word.count > width - 2,
                        "\(command) --help breaks a paragraph early: \"\(line)\" / \"\(next)\""
                    )
                }
                if let start = lines.firstIndex(of: "SUBCOMMANDS:") {
                    for line in lines[(start + 1)...] {
                        guard !line.isEmpty else { break }
                        // A subcommand's line starts with its name two spaces in; its description's next lines are
                        // indented further.
                        guard line.hasPrefix("  "), line.dropFirst(2).first != " ",
                            let name = line.split(separator: " ").first
                        else { continue }
                        pending.append(path + [String(name)])
                    }
                }
            }
            #expect(read.count > 25, "\(read)")
            #expect(read.contains("crm model validate"))
        }

        /// A benchmark runs for minutes to an hour: a misspelt flag must stop it at once, as `crm` does (exit 64,
        /// the flag named on standard error), not run it with the defaults; `--help` lists what it takes.
        @Test(arguments: [
            "IntakeBenchmark", "ScoringBenchmark", "AlertsBenchmark", "LifecycleBenchmark", "ComplaintsBenchmark",
            "ConsoleBenchmark",
        ])
        func aBenchmarkRefusesAFlagItDoesNotKnow(_ benchmark: String) throws {
            let path = Shell.binDirectory.appendingPathComponent(benchmark).path
            let refused = try Shell.run("'\(path)' --customer 10; echo \"exit $?\"")
            #expect(refused.hasSuffix("exit 64\n"), "\(refused)")
            #expect(refused.contains("--customer"), "\(refused)")
            let help = try Shell.run("'\(path)' --help")
            #expect(help.contains("USAGE:"), "\(help)")
        }
    }
}
