import CRMSupport
import Foundation
import Testing

@testable import Console

@Suite struct HTMLTests {
    @Test func textAndAttributesAreEscaped() {
        var html = HTML()
        html.element(
            "a",
            .init("href", #"/x?a="b"&c='d'"#),
            .init("title", nil),
            text: "<script>alert(1)</script> & more"
        )
        #expect(
            html.output
                == #"<a href="/x?a=&quot;b&quot;&amp;c=&#39;d&#39;">&lt;script&gt;alert(1)&lt;/script&gt; &amp; more</a>"#
        )
    }

    @Test func numbersAreFixedAndNeverNegativeZero() {
        #expect(HTML.format(-0.0001, decimals: 2) == "0.00")
        #expect(HTML.format(.nan) == "0")
        #expect(HTML.format(12.345, decimals: 1) == "12.3")
    }

    @Test func figuresAreWrittenForPeople() {
        #expect(Figures.count(1_234_567) == "1,234,567")
        #expect(Figures.count(-1000) == "-1,000")
        #expect(Figures.money("1234.5") == "1,234.50")
        #expect(Figures.money(0.005) == "0.01")
        #expect(Figures.money(nil) == "–")
        #expect(Figures.compact(2_345_678) == "2.3M")
        #expect(Figures.compact(35_400) == "35k")
        #expect(Figures.percent(0.4213) == "42.1%")
        #expect(Figures.duration(seconds: 3 * 3600 + 5 * 60) == "3 h 05 min")
        #expect(Figures.duration(seconds: 50 * 3600) == "2 d 2 h")
        #expect(Figures.minute("2026-12-05T14:03:11.000Z") == "2026-12-05 14:03")
    }
}

@Suite struct AccessTests {
    @Test func rolesOpenTheirPagesOnly() {
        #expect(ConsolePage.allCases.allSatisfy(ConsoleRole.admin.allows))
        #expect(!ConsoleRole.analyst.allows(.desks))
        #expect(
            [ConsolePage.overview, .customers, .customer, .export, .model, .retention].allSatisfy(
                ConsoleRole.analyst.allows
            )
        )
        #expect([ConsolePage.desks, .retention, .customers, .customer].allSatisfy(ConsoleRole.deskManager.allows))
        #expect(![ConsolePage.overview, .model, .export].contains(where: ConsoleRole.deskManager.allows))
        #expect(ConsoleRole.deskManager.home == .desks)
        #expect(ConsoleRole.analyst.home == .overview)
    }

    @Test func signInReturnsOnlyToConsolePaths() {
        #expect(LoginPage.safeNext("/console/model") == "/console/model")
        #expect(LoginPage.safeNext("/console/customers?tier=gold") == "/console/customers?tier=gold")
        #expect(LoginPage.safeNext("https://example.com/") == nil)
        #expect(LoginPage.safeNext("//example.com/console/") == nil)
        #expect(LoginPage.safeNext("/console/\\evil") == nil)
        #expect(LoginPage.safeNext("/other") == nil)
        #expect(ConsoleRole.deskManager.allowsPath("/console/desks?x=1"))
        #expect(!ConsoleRole.deskManager.allowsPath("/console/model"))
    }

    @Test func tokensAreRandomAndShaped() {
        let tokens = Set((0..<100).map { _ in SessionStore.randomToken() })
        #expect(tokens.count == 100)
        #expect(tokens.allSatisfy(SessionStore.isToken))
        #expect(!SessionStore.isToken("short"))
        #expect(!SessionStore.isToken(String(repeating: "a", count: 42) + "="))
    }

    @Test func userNamesArePlain() {
        #expect(ConsoleUsers.isValidName("ana.li@desk-2"))
        #expect(!ConsoleUsers.isValidName(""))
        #expect(!ConsoleUsers.isValidName("-ana"))
        #expect(!ConsoleUsers.isValidName("ana li"))
        #expect(!ConsoleUsers.isValidName("<script>"))
        #expect(!ConsoleUsers.isValidName(String(repeating: "a", count: 65)))
    }

    @Test func passwordsBcryptCanKeepWhole() {
        #expect(PasswordHasher.problem(with: "short") != nil)
        #expect(PasswordHasher.problem(with: String(repeating: "x", count: 73)) != nil)
        #expect(PasswordHasher.problem(with: "correct horse battery") == nil)
    }

    @Test func metricLabelsAreAClosedSet() {
        #expect(SecurityMiddleware.pageLabel("/console/customers/<script>") == "customer")
        #expect(SecurityMiddleware.pageLabel("/anything/else") == "other")
        #expect(SecurityMiddleware.pageLabel("/console/") == "overview")
    }
}

@Suite struct ChartTests {
    @Test func theNineGridHasNineCellsWithTheirCounts() {
        var html = HTML()
        var cells: [String: HeatCharts.GridCell] = [:]
        for (index, id) in [
            "high-high", "high-mid", "high-low", "mid-high", "mid-mid", "mid-low", "low-high", "low-mid", "low-low",
        ]
        .enumerated() {
            cells[id] = .init(
                id: id,
                customers: index * 1000,
                historicalTotal: 10,
                predictedTotal: 20,
                strategy: "maintain"
            )
        }
        HeatCharts.nineGrid(&html, cells: cells)
        #expect(html.output.components(separatedBy: "data-cell=").count - 1 == 9)
        #expect(html.output.contains(#"data-cell="low-low" data-customers="8000""#))
        #expect(html.output.contains(">8,000<"))
    }

    @Test func ticksAreRound() {
        #expect(Ticks.nice(0.87).maximum == 1)
        #expect([7.5, 8].contains(Ticks.nice(7.3).maximum))
        #expect(Ticks.nice(1234).maximum == 1250 || Ticks.nice(1234).maximum == 1500)
        #expect(Ticks.nice(0).ticks.count == 5)
    }

    @Test func paletteRunsFromLightToDark() {
        #expect(Palette.shade(0) == "#eef3f9")
        #expect(Palette.shade(1) == "#1f3a5f")
        #expect(Palette.shade(2) == Palette.shade(1))
    }

    @Test func daysAreCivilDates() {
        #expect(LineChart.day(Date(timeIntervalSince1970: 0)) == "1970-01-01")
        #expect(LineChart.day(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29")
        #expect(LineChart.day(Date(timeIntervalSince1970: -86_400)) == "1969-12-31")
    }
}
