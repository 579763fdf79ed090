import ArgumentParser
import CRMSupport
import Foundation

/// `crm fx`: the exchange rates intake converts foreign-currency orders with.
struct FX: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fx",
        abstract: "Show or set exchange rates into the base currency (CRM_BASE_CURRENCY of crm-intake).",
        subcommands: [List.self, Set.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the rates.")

        @Flag(help: "Print one JSON object (times in RFC 3339).")
        var json = false

        func run() async throws {
            let pool = try CommandEnvironment().pool()
            let rows = try await pool.query("SELECT currency, rate_to_base, updated_at FROM fx_rates ORDER BY currency")
            if json {
                await pool.close()
                let rates: [[String: Any]] = try rows.map { row in
                    [
                        "currency": row[0] ?? "", "rate_to_base": Double(row[1] ?? "") ?? 0,
                        "updated_at": UTCDateTime.format(try row.decode(2, as: Date.self)),
                    ]
                }
                print(try JSONOutput.string(["rates": rates]))
                return
            }
            if rows.isEmpty { print("No rates set: orders in the base currency only are accepted.") }
            for row in rows {
                print("\(row[0] ?? "")  \(row[1] ?? "")  (updated \(row[2] ?? ""))")
            }
            await pool.close()
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the rate of one currency: 1 unit of CURRENCY = RATE units of the base currency."
        )

        @Argument(help: "ISO 4217 code, e.g. CNY.")
        var currency: String

        @Argument(help: "Positive decimal rate, e.g. 0.1385.")
        var rate: String

        func validate() throws {
            guard currency.count == 3, currency.allSatisfy({ $0.isLetter && $0.isASCII }) else {
                throw ValidationError("currency must be a three-letter ISO 4217 code")
            }
            guard let value = Decimal(string: rate), value > 0 else {
                throw ValidationError("rate must be a positive decimal number")
            }
        }

        func run() async throws {
            let pool = try CommandEnvironment().pool()
            try await pool.execute(
                """
                INSERT INTO fx_rates (currency, rate_to_base) VALUES ($1, $2::numeric)
                ON CONFLICT (currency) DO UPDATE SET rate_to_base = EXCLUDED.rate_to_base, updated_at = now()
                """,
                [currency.uppercased(), rate]
            )
            print("1 \(currency.uppercased()) = \(rate) in the base currency.")
            await pool.close()
        }
    }
}
