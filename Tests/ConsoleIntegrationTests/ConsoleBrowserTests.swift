import CRMContract
import CRMPostgres
import CRMSupport
import Console
import Foundation
import TestSupport
import Testing

/// The console in a real headless Chromium with the CDNOW master loaded: sign in, open every page, check what the
/// page shows against the system's own figures, download the CSV, and take screenshots. Any console error, failed
/// load, CSP violation, uncaught exception or dialog fails the test.
///
/// Screenshots go to `CRM_CONSOLE_SCREENSHOTS` when set (the README's come from
/// `CRM_CONSOLE_SCREENSHOTS=docs/console swift test --filter ConsoleBrowserTests`), else to a temporary directory.
@Suite struct ConsoleBrowserTests {
    @Test func everyPageInABrowserWithTheCDNOWMaster() async throws {
        try await TestServers.withEnvironment { environment in
            try await ConsoleHarness.storeCDNOW(pool: environment.pool)
            try await ConsoleHarness.store(
                [
                    ConsoleHarness.order(
                        "x-1",
                        customer: ConsoleHarness.hostile,
                        at: "1997-02-03T10:00:00Z",
                        amount: "41.00",
                        name: ConsoleHarness.hostile
                    ),
                    ConsoleHarness.order(
                        "x-2",
                        customer: ConsoleHarness.hostile,
                        at: "1997-08-03T10:00:00Z",
                        amount: "17.25",
                        name: ConsoleHarness.hostile
                    ),
                ],
                pool: environment.pool
            )
            try await ConsoleHarness.rescore(pool: environment.pool, asOf: "1998-03-31")
            try await ConsoleHarness.rescore(pool: environment.pool, asOf: "1998-06-30", validatingHoldoutDays: 182)
            try await ConsoleFixtures.storeDeskAndAlertActivity(pool: environment.pool)
            try await ConsoleHarness.addUser(
                "analyst",
                role: .admin,
                password: "correct horse battery",
                pool: environment.pool
            )
            let reportRun = try Shell.execute(
                "crm",
                arguments: ["report", "--json"],
                environment: environment.serviceVariables
            )
            #expect(reportRun.status == 0, "crm report --json exited \(reportRun.status)")
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(reportRun.output.utf8)) as? [String: Any]
            )
            let gridCounts = (report["grid"] as? [String: [String: Any]] ?? [:]).mapValues {
                $0["customers"] as? Int ?? -1
            }
            let tierCounts = report["tiers"] as? [String: Int] ?? [:]
            let shots =
                ProcessInfo.processInfo.environment["CRM_CONSOLE_SCREENSHOTS"].map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                    "crm-console-shots-\(UUID().uuidString)"
                )
            try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)
            let downloads = FileManager.default.temporaryDirectory.appendingPathComponent(
                "crm-downloads-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: downloads, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: downloads) }

            try await ConsoleHarness.whileRunning(environment) { port in
                let base = "http://127.0.0.1:\(port)"
                try await Browser.with(downloads: downloads) { browser, page in
                    // Sign in through the form.
                    try await page.open(base + "/console/")
                    #expect(try await page.evaluate("location.pathname") as? String == "/console/login")
                    try await page.screenshot().write(to: shots.appendingPathComponent("login.png"))
                    _ = try await page.evaluate(
                        """
                        document.getElementById('username').value = 'analyst';
                        document.getElementById('password').value = 'correct horse battery';
                        document.getElementById('sign-in').click(); true
                        """
                    )
                    try await Task.sleep(for: .milliseconds(300))
                    try await page.waitUntilLoaded()
                    #expect(try await page.evaluate("location.pathname") as? String == "/console/")
                    #expect(
                        try await page.evaluate("document.cookie") as? String == "",
                        "HttpOnly: scripts cannot read it"
                    )

                    // Overview: the nine-grid has nine cells with the counts of crm report.
                    let cells = try #require(
                        try await page.evaluate(
                            """
                            Array.from(document.querySelectorAll('#nine-grid [data-cell]'))
                                .map(c => [c.getAttribute('data-cell'), Number(c.getAttribute('data-customers')), c.textContent])
                            """
                        ) as? [[Any]]
                    )
                    #expect(cells.count == 9)
                    #expect(gridCounts.count == 9)
                    for cell in cells {
                        let id = cell[0] as? String ?? ""
                        let shown = (cell[1] as? NSNumber)?.intValue
                        #expect(shown == gridCounts[id], "cell \(id)")
                        let text = cell[2] as? String ?? ""
                        let count = gridCounts[id] ?? -1
                        #expect(text.contains(Self.grouped(count)), "cell \(id) shows \(count): \(text)")
                    }
                    let tiers = try #require(
                        try await page.evaluate(
                            "Object.fromEntries(Array.from(document.querySelectorAll('[data-tier]')).map(t => [t.getAttribute('data-tier'), Number(t.getAttribute('data-customers'))]))"
                        ) as? [String: Any]
                    )
                    for (tier, count) in tierCounts {
                        #expect((tiers[tier] as? NSNumber)?.intValue == count, "tier \(tier)")
                    }
                    let stageBars = try await page.evaluate("document.querySelectorAll('[data-stage]').length") as? Int
                    #expect(stageBars == 7)
                    let cohortCells =
                        try await page.evaluate("document.querySelectorAll('#cohorts rect').length") as? Int ?? 0
                    #expect(cohortCells > 3 * 10, "the cohort triangle has \(cohortCells) cells")
                    try await page.screenshot().write(to: shots.appendingPathComponent("overview.png"))

                    // Segment browser: a filtered page, its next page, and the CSV of the whole selection.
                    let filters = "tier=gold&segment=champions&sort=clv.predicted:desc"
                    try await page.open(base + "/console/customers?" + filters)
                    let rows =
                        try await page.evaluate("document.querySelectorAll('#customers tbody tr').length") as? Int
                    #expect(rows == 50)
                    #expect(try await page.evaluate("document.getElementById('tier').value") as? String == "gold")
                    try await page.screenshot().write(to: shots.appendingPathComponent("customers.png"))
                    _ = try await page.evaluate("document.getElementById('csv-download').click(); true")
                    let file = try await browser.download(in: downloads)
                    let downloaded = try String(contentsOf: file, encoding: .utf8)
                    let command = try Shell.execute(
                        "crm",
                        arguments: [
                            "customers", "--tier", "gold", "--segment", "champions", "--sort", "clv.predicted:desc",
                            "--format", "csv",
                        ],
                        environment: environment.serviceVariables
                    )
                    #expect(command.status == 0)
                    #expect(downloaded == command.output, "the CSV download equals crm customers with the same filters")
                    #expect(downloaded.split(separator: "\r\n").count > 51, "the whole selection, not one page")
                    _ = try await page.evaluate("document.getElementById('next-page').click(); true")
                    try await Task.sleep(for: .milliseconds(300))
                    try await page.waitUntilLoaded()
                    let second =
                        try await page.evaluate(
                            "document.querySelector('#customers tbody tr').getAttribute('data-customer')"
                        ) as? String
                    let secondRow = command.output.split(separator: "\r\n")[51].split(separator: ",").first.map(
                        String.init
                    )
                    #expect(second == secondRow, "the next page starts after the first page's last customer")

                    // One customer: the total of crm customer ID --json.
                    let customerID = "00004"
                    let object = try #require(
                        try JSONSerialization.jsonObject(
                            with: Data(
                                try Shell.execute(
                                    "crm",
                                    arguments: ["customer", customerID, "--json"],
                                    environment: environment.serviceVariables
                                ).output.utf8
                            )
                        ) as? [String: Any]
                    )
                    try await page.open(base + "/console/customers/" + customerID)
                    let total =
                        try await page.evaluate("document.querySelector('#customer-total .value').textContent")
                        as? String
                    let expected = Double(object["monetary_total"] as? String ?? "") ?? -1
                    #expect(total == Self.money(expected), "the page shows \(total ?? "nothing"), crm says \(expected)")
                    let orders =
                        try await page.evaluate("document.querySelectorAll('#timeline li[data-type=order]').length")
                        as? Int
                    #expect(orders == object["orders_count"] as? Int)
                    #expect(
                        try await page.evaluate("document.querySelectorAll('#alive-chart path').length") as? Int == 1
                    )
                    try await page.screenshot().write(to: shots.appendingPathComponent("customer.png"))

                    // The hostile customer: its id and name are text, no script runs (a dialog would be recorded).
                    try await page.open(base + "/console/customers/" + HTTPClient.encode(ConsoleHarness.hostile))
                    #expect(
                        try await page.evaluate("document.getElementById('customer-name').textContent") as? String
                            == ConsoleHarness.hostile
                    )
                    #expect(try await page.evaluate("document.querySelectorAll('main script').length") as? Int == 0)

                    // Model, desks, retention.
                    try await page.open(base + "/console/model")
                    #expect(
                        try await page.evaluate(
                            "document.querySelector('[data-model=bgnbd]').textContent.includes('r = ')"
                        ) as? Bool == true
                    )
                    for model in ["mbgnbd", "pareto_nbd"] {
                        #expect(
                            try await page.evaluate(
                                "document.querySelector('[data-model=\(model)]').textContent.includes(' ± ')"
                            ) as? Bool == true,
                            "\(model) with standard errors"
                        )
                    }
                    // The scheduled validation's actual-against-predicted bars, one chart per purchase model.
                    #expect(try await page.evaluate("document.querySelectorAll('#validation svg').length") as? Int == 3)
                    #expect(
                        try await page.evaluate("document.querySelectorAll('#alive-matrix rect').length") as? Int ?? 0
                            >= 25 * 40
                    )
                    try await page.screenshot().write(to: shots.appendingPathComponent("model.png"))
                    try await page.open(base + "/console/desks")
                    let desks = try await page.evaluate("document.querySelectorAll('#desks tbody tr').length") as? Int
                    #expect(desks == 3)
                    try await page.screenshot().write(to: shots.appendingPathComponent("desks.png"))
                    try await page.open(base + "/console/retention")
                    let raised =
                        try await page.evaluate("document.querySelector('#alerts-raised .value').textContent")
                        as? String
                    #expect(raised == "40")
                    try await page.screenshot().write(to: shots.appendingPathComponent("retention.png"))

                    #expect(browser.problems.isEmpty, "the pages reported: \(browser.problems)")
                }
            }
        }
    }

    /// `12,345`.
    static func grouped(_ value: Int) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.groupingSeparator = ","
        formatter.usesGroupingSeparator = true
        return formatter.string(from: NSNumber(value: value)) ?? String(value)
    }

    /// `1,234.57`.
    static func money(_ value: Double) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.groupingSeparator = ","
        formatter.decimalSeparator = "."
        formatter.minimumFractionDigits = 2
        formatter.maximumFractionDigits = 2
        return formatter.string(from: NSNumber(value: value)) ?? String(value)
    }
}

/// Complaints and alerts written as crm-complaints and crm-alerts write them (their rows, not their messages): the
/// desks and retention pages need something to show.
enum ConsoleFixtures {
    static func storeDeskAndAlertActivity(pool: PostgresPool) async throws {
        try await pool.execute(
            """
            INSERT INTO complaints (complaint_id, customer_id, received_at, channel, message, category, category_source,
                category_score, severity, priority, desk, matched_rule, rules_version, open_complaints, routed,
                state, responded_at, first_response_outcome, resolution_outcome, escalation_level)
            SELECT 'K-' || n, (n * 37 % 23570 + 1)::text, timestamptz '1998-06-01' + n * interval '5 hours', 'email',
                   '{}', (ARRAY['delivery', 'billing', 'quality'])[n % 3 + 1], 'rules', 3,
                   (ARRAY['low', 'medium', 'high', 'critical'])[n % 4 + 1], (ARRAY['p1', 'p2', 'p3', 'p4'])[n % 4 + 1],
                   (ARRAY['logistics', 'billing', 'vip'])[n / 3 % 3 + 1], 'rule-' || n % 3, 1, 0, '{}',
                   CASE WHEN n % 3 = 0 THEN 'resolved' WHEN n % 3 = 1 THEN 'in_progress' ELSE 'awaiting_response' END,
                   CASE WHEN n % 3 <> 2 THEN timestamptz '1998-06-01' + n * interval '5 hours' + (n % 7 + 1) * interval '37 minutes' END,
                   CASE WHEN n % 3 = 2 THEN NULL WHEN n % 5 = 0 THEN 'breached' ELSE 'met' END,
                   CASE WHEN n % 3 = 0 THEN (CASE WHEN n % 4 = 0 THEN 'breached' ELSE 'met' END) END,
                   CASE WHEN n % 5 = 0 THEN 1 ELSE 0 END
            FROM generate_series(1, 90) n
            """
        )
        try await pool.execute(
            """
            INSERT INTO retention_alerts (alert_id, customer_id, raised_at, scored_at, priority, reasons, value_at_risk,
                tier, lifecycle_stage, suggested_action, evidence, body, delivery, status, outcome)
            SELECT md5('alert' || n)::uuid, (n * 53 % 23570 + 1)::text, timestamptz '1998-06-10' + n * interval '3 hours',
                   timestamptz '1998-06-10', (ARRAY['p1', 'p2', 'p3'])[n % 3 + 1],
                   ARRAY[(ARRAY['lifecycle_decline', 'overdue_purchase', 'p_alive_drop'])[n % 3 + 1]],
                   100 + n * 13, (ARRAY['gold', 'silver', 'bronze'])[n % 3 + 1], 'decline', 'call', '{}', '{}', 'queued',
                   CASE WHEN n % 4 = 0 THEN 'open' WHEN n % 4 = 1 THEN 'acknowledged' ELSE 'resolved' END,
                   CASE WHEN n % 4 >= 2 THEN (ARRAY['retained', 'lost', 'not_contacted'])[n % 3 + 1] END
            FROM generate_series(1, 40) n
            """
        )
        try await pool.execute(
            """
            INSERT INTO retention_alert_reasons (alert_id, customer_id, reason, open)
            SELECT alert_id, customer_id, reasons[1], status <> 'resolved' FROM retention_alerts
            """
        )
    }
}
