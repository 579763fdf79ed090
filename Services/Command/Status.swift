import Alerts
import ArgumentParser
import CRMAMQP
import CRMPostgres
import CRMSupport
import Complaints
import Foundation
import Scoring

/// `crm status`: the state of the whole system on one screen.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show queues, dead letters, replicas, the last full rescoring and the customer base at a glance.",
        discussion: """
            Queue depths and consumers come from the broker, everything else from the database. A queue that \
            grows while its consumers count is 0 means its service is down; dead letters wait in <queue>.dead \
            for `crm replay-dead <queue>` once their cause is fixed.
            """
    )

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        let environment = CommandEnvironment()
        let pool = try environment.pool()
        let publisher = AMQPPublisher(settings: try environment.amqp(), name: "crm-status", logger: environment.logger)
        var report: [String: Any] = [:]

        // The broker must answer: unreachable, or refusing the login, is a failure (exit 1), never "absent" queues.
        try await publisher.connect()
        var queues: [[String: Any]] = []
        for queue in try await StatusQueries.queueNames(pool: pool) {
            var entry: [String: Any] = ["queue": queue, "exists": false]
            if let live = try await StatusQueries.inspect(queue, publisher) {
                entry["exists"] = true
                entry["messages"] = live.messages
                entry["consumers"] = live.consumers
            }
            if let dead = try await StatusQueries.inspect(queue + ".dead", publisher) {
                entry["dead_letters"] = dead.messages
            }
            queues.append(entry)
        }
        await publisher.close()
        report["queues"] = queues
        report["replicas"] = try await StatusQueries.replicas(pool: pool)
        report["last_rescoring"] = try await StatusQueries.lastRescoring(pool: pool) ?? NSNull()
        report["customers"] = try await StatusQueries.customerBase(pool: pool)
        var sections: [(String, [String])] = []
        for section in StatusQueries.extraSections {
            let loaded = try await section.load(pool)
            report[section.key] = loaded.json
            sections.append((section.key, loaded.text))
        }
        await pool.close()

        if json {
            print(try JSONOutput.string(report))
            return
        }
        StatusText.print(report, sections: sections)
    }
}

/// The queries behind `crm status`.
enum StatusQueries {
    /// A queue's depth and consumers, or nil when the broker has no such queue (reply 404); any other failure (the
    /// broker away, a refused login or permission) is thrown.
    static func inspect(_ queue: String, _ publisher: AMQPPublisher) async throws -> (messages: Int, consumers: Int)? {
        let result: Result<(messages: Int, consumers: Int), AMQPError>
        do {
            result = .success(try await publisher.inspectQueue(queue))
        } catch {
            result = .failure(error)
        }
        switch result {
        case .success(let counts): return counts
        case .failure(let error) where error.code == .closedByBroker && error.replyCode == 404: return nil
        case .failure(let error): throw error
        }
    }

    /// A time as RFC 3339 in UTC, as every `--json` prints times.
    static func rfc3339(_ date: Date?) -> Any {
        date.map { UTCDateTime.format($0) } ?? NSNull()
    }

    /// Sections other parts of the system add: a key and how to load its JSON-ready value.
    static let extraSections:
        [(key: String, load: @Sendable (PostgresPool) async throws -> (json: Any, text: [String]))] = [
            ("held_refunds", heldRefunds),
            ("complaints", complaints),
            (
                "satisfaction",
                { pool in
                    let figures = try await pool.transaction { connection in
                        try SatisfactionFigures.load(on: connection)
                    }
                    return (SatisfactionFigures.jsonObject(figures), SatisfactionFigures.lines(figures))
                }
            ),
            (
                "retention_alerts",
                { pool in
                    let report = try await AlertsReport.load(pool: pool)
                    return (report.jsonObject, report.text.split(separator: "\n").map(String.init))
                }
            ),
        ]

    /// Refunds stored `held` until their purchase arrives: how many, and how long the oldest has waited.
    @Sendable static func heldRefunds(pool: PostgresPool) async throws -> (json: Any, text: [String]) {
        let row = try await pool.query(
            """
            SELECT count(*), coalesce(date_part('epoch', now() - min(received_at)), 0)::float8,
                   count(DISTINCT original_order_id)
            FROM orders WHERE held
            """
        )[0]
        let (count, oldest, purchases) = (
            try row.decode(0, as: Int.self), try row.decode(1, as: Double.self), try row.decode(2, as: Int.self)
        )
        let json: [String: Any] = ["count": count, "oldest_seconds": oldest.rounded(), "purchases_awaited": purchases]
        guard count > 0 else { return (json, ["none"]) }
        let age = Duration.seconds(oldest.rounded()).formatted(
            .units(allowed: [.days, .hours, .minutes, .seconds], width: .narrow, maximumUnitCount: 2)
        )
        return (json, ["\(count) awaiting \(purchases) purchases; the oldest for \(age)"])
    }

    /// Every consuming queue of the system, with a `desk.<name>` queue for every configured desk.
    static func queueNames(pool: PostgresPool) async throws -> [String] {
        let rulesFile = Settings().string("CRM_COMPLAINT_RULES_FILE")
        let desks = try await pool.withConnection { connection in
            (try? await ComplaintRulesStore.effectiveRules(on: connection, defaultFile: rulesFile))?.0.desks.map(\.name)
        }
        return Topology.system(desks: desks ?? []).queues.map(\.name)
    }

    /// Complaints by state and SLA attainment per desk: one object per desk, and the text lines.
    @Sendable static func complaints(pool: PostgresPool) async throws -> (json: Any, text: [String]) {
        let rows = try await pool.query(
            """
            SELECT desk, count(*) FILTER (WHERE state <> 'resolved'),
                   count(*) FILTER (WHERE first_response_outcome = 'met'),
                   count(*) FILTER (WHERE first_response_outcome = 'breached'),
                   count(*) FILTER (WHERE resolution_outcome = 'met'),
                   count(*) FILTER (WHERE resolution_outcome = 'breached'),
                   max(escalation_level)
            FROM complaints GROUP BY desk ORDER BY desk
            """
        )
        let desks: [[String: Any]] = try rows.map { row in
            [
                "desk": row[0] ?? "", "open": try row.decode(1, as: Int.self),
                "first_response_met": try row.decode(2, as: Int.self),
                "first_response_breached": try row.decode(3, as: Int.self),
                "resolution_met": try row.decode(4, as: Int.self),
                "resolution_breached": try row.decode(5, as: Int.self),
                "top_escalation_level": try row.decodeIfPresent(6, as: Int.self) ?? 0,
            ]
        }
        guard !rows.isEmpty else { return (desks, ["none received yet"]) }
        func rate(_ met: Int, _ breached: Int) -> String {
            met + breached == 0 ? "–" : String(format: "%.1f%%", 100 * Double(met) / Double(met + breached))
        }
        let text =
            try ["desk              open  first response met  resolution met  top escalation"]
            + rows.map { row in
                let (open, frMet, frBreached, resMet, resBreached) = (
                    try row.decode(1, as: Int.self), try row.decode(2, as: Int.self), try row.decode(3, as: Int.self),
                    try row.decode(4, as: Int.self), try row.decode(5, as: Int.self)
                )
                return (row[0] ?? "").padding(toLength: 16, withPad: " ", startingAt: 0)
                    + "\(open)".leftPadded(to: 6, with: " ")
                    + rate(frMet, frBreached).leftPadded(to: 20, with: " ")
                    + rate(resMet, resBreached).leftPadded(to: 16, with: " ")
                    + (row[6] ?? "0").leftPadded(to: 16, with: " ")
            }
        return (desks, text)
    }

    /// Replicas that reported in the last two minutes, by service.
    static func replicas(pool: PostgresPool) async throws -> [[String: Any]] {
        let rows = try await pool.query(
            """
            SELECT service, count(*) FILTER (WHERE last_seen_at > now() - interval '2 minutes'),
                   max(last_seen_at), string_agg(DISTINCT version, ', ')
            FROM crm_instances GROUP BY service ORDER BY service
            """
        )
        return try rows.map { row in
            [
                "service": row[0] ?? "", "running": try row.decode(1, as: Int.self),
                "last_seen": rfc3339(try row.decodeIfPresent(2, as: Date.self)),
                "versions": (row[3] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
            ]
        }
    }

    /// The newest model and its run.
    static func lastRescoring(pool: PostgresPool) async throws -> [String: Any]? {
        let rows = try await pool.query(
            """
            SELECT model_id, as_of, fitted_at, customers, as_of_requested,
                   coalesce((statistics->>'seconds.read')::float8, 0) + coalesce((statistics->>'seconds.fit')::float8, 0)
                   + coalesce((statistics->>'seconds.score')::float8, 0) + coalesce((statistics->>'seconds.write')::float8, 0),
                   (bgnbd #>> '{parameters,r}')::float8, (bgnbd #>> '{parameters,alpha}')::float8,
                   (bgnbd #>> '{parameters,a}')::float8, (bgnbd #>> '{parameters,b}')::float8,
                   (gamma_gamma #>> '{parameters,p}')::float8, (gamma_gamma #>> '{parameters,q}')::float8,
                   (gamma_gamma #>> '{parameters,v}')::float8,
                   coalesce(selected_model, CASE WHEN bgnbd IS NOT NULL THEN 'bgnbd' END)
            FROM scoring_models ORDER BY model_id DESC LIMIT 1
            """
        )
        guard let row = rows.first else { return nil }
        var result: [String: Any] = [
            "model_id": try row.decode(0, as: Int.self), "as_of": rfc3339(try row.decode(1, as: Date.self)),
            "fitted_at": rfc3339(try row.decode(2, as: Date.self)),
            "customers": try row.decode(3, as: Int.self), "replay": try row.decode(4, as: Bool.self),
            "seconds": try row.decode(5, as: Double.self),
        ]
        if let r = try row.decodeIfPresent(6, as: Double.self) {
            result["bgnbd"] = [
                "r": r, "alpha": try row.decode(7, as: Double.self), "a": try row.decode(8, as: Double.self),
                "b": try row.decode(9, as: Double.self),
            ]
        }
        if let selected = row[13] { result["selected"] = selected }
        if let p = try row.decodeIfPresent(10, as: Double.self) {
            result["gamma_gamma"] = [
                "p": p, "q": try row.decode(11, as: Double.self), "v": try row.decode(12, as: Double.self),
            ]
        }
        return result
    }

    /// Customers by stage, by tier, and the nine-grid with counts and predicted value per cell.
    static func customerBase(pool: PostgresPool) async throws -> [String: Any] {
        let stages = try await pool.query(
            "SELECT lifecycle_stage, count(*) FROM customer_scores GROUP BY 1 ORDER BY 1"
        )
        let tiers = try await pool.query("SELECT tier, count(*) FROM customer_scores GROUP BY 1 ORDER BY 1")
        let grid = try await pool.query(
            """
            SELECT grid, min(strategy), count(*), coalesce(sum(clv_predicted), sum(clv_historical))::text
            FROM customer_scores WHERE grid IS NOT NULL GROUP BY 1 ORDER BY 1
            """
        )
        return [
            "scored": try stages.reduce(0) { $0 + (try $1.decode(1, as: Int.self)) },
            "stages": Dictionary(
                uniqueKeysWithValues: try stages.map { ($0[0] ?? "", try $0.decode(1, as: Int.self)) }
            ),
            "tiers": Dictionary(uniqueKeysWithValues: try tiers.map { ($0[0] ?? "", try $0.decode(1, as: Int.self)) }),
            "grid": try grid.map { row in
                [
                    "cell": row[0] ?? "", "strategy": row[1] ?? "", "customers": try row.decode(2, as: Int.self),
                    "value": Double(row[3] ?? "0") ?? 0,
                ] as [String: Any]
            },
        ]
    }
}

/// The text layout of `crm status`.
enum StatusText {
    static func print(_ report: [String: Any], sections: [(String, [String])]) {
        Swift.print("Queues                               messages  consumers  dead letters")
        for queue in report["queues"] as? [[String: Any]] ?? [] {
            let name = (queue["queue"] as? String ?? "").padding(toLength: 36, withPad: " ", startingAt: 0)
            func cell(_ key: String) -> String {
                (queue[key].map { "\($0)" } ?? "absent").leftPadded(to: 9, with: " ")
            }
            guard queue["exists"] as? Bool ?? false else {
                Swift.print("  \(name)  absent: run crm migrate")
                continue
            }
            Swift.print("  \(name)\(cell("messages"))  \(cell("consumers"))  \(cell("dead_letters"))")
        }
        Swift.print("\nReplicas")
        let replicas = report["replicas"] as? [[String: Any]] ?? []
        if replicas.isEmpty { Swift.print("  none running") }
        for replica in replicas {
            Swift.print(
                "  \(replica["service"] ?? "")  running \(replica["running"] ?? 0), last seen \(replica["last_seen"] as? String ?? "never")"
            )
        }
        Swift.print("\nLast full rescoring")
        if let rescoring = report["last_rescoring"] as? [String: Any] {
            let seconds = String(format: "%.1f", rescoring["seconds"] as? Double ?? 0)
            Swift.print(
                "  model \(rescoring["model_id"] ?? "") as of \(rescoring["as_of"] ?? "")\((rescoring["replay"] as? Bool ?? false) ? " (replay)" : ""), fitted \(rescoring["fitted_at"] ?? ""), \(rescoring["customers"] ?? 0) customers in \(seconds) s"
            )
            if let bgnbd = rescoring["bgnbd"] as? [String: Double] {
                Swift.print(
                    String(
                        format: "  BG/NBD r=%.3f alpha=%.3f a=%.3f b=%.3f",
                        bgnbd["r"] ?? 0,
                        bgnbd["alpha"] ?? 0,
                        bgnbd["a"] ?? 0,
                        bgnbd["b"] ?? 0
                    )
                )
            }
            if let selected = (rescoring["selected"] as? String).flatMap(PurchaseModelKind.init(rawValue:)) {
                Swift.print("  scores by \(selected.displayName) (crm model says why)")
            }
        } else {
            Swift.print("  none yet: crm-scoring runs one at start, or run crm rescore")
        }
        let base = report["customers"] as? [String: Any] ?? [:]
        Swift.print("\nCustomers scored: \(base["scored"] ?? 0)")
        let stages = base["stages"] as? [String: Int] ?? [:]
        Swift.print(
            "  stages  "
                + ["potential", "development", "growth", "maturity", "decline", "termination", "recovery"]
                .map { "\($0) \(stages[$0] ?? 0)" }.joined(separator: ", ")
        )
        let tiers = base["tiers"] as? [String: Int] ?? [:]
        Swift.print(
            "  tiers   " + ["gold", "silver", "bronze"].map { "\($0) \(tiers[$0] ?? 0)" }.joined(separator: ", ")
        )
        let cells = Dictionary(
            (base["grid"] as? [[String: Any]] ?? []).map { ($0["cell"] as? String ?? "", $0) },
            uniquingKeysWith: { a, _ in a }
        )
        Swift.print("\nNine-grid: customers / value (strategy); rows value high..low, columns second axis high..low")
        for value in ["high", "mid", "low"] {
            let row = ["high", "mid", "low"].map { second -> String in
                guard let cell = cells["\(value)-\(second)"] else {
                    return "–".padding(toLength: 30, withPad: " ", startingAt: 0)
                }
                let value = cell["value"] as? Double ?? 0
                return "\(cell["customers"] ?? 0) / \(String(format: "%.0f", value)) (\(cell["strategy"] ?? ""))"
                    .padding(toLength: 30, withPad: " ", startingAt: 0)
            }
            Swift.print("  \(value.padding(toLength: 5, withPad: " ", startingAt: 0)) \(row.joined())")
        }
        for (title, lines) in sections {
            Swift.print("\n\(title.replacingOccurrences(of: "_", with: " ").capitalized)")
            for line in lines { Swift.print("  \(line)") }
        }
    }
}
