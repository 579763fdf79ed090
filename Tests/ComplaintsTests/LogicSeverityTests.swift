import CRMContract
import Complaints
import Testing

@Suite("Classifier: severity")
struct LogicSeverityTests {
    @Test(
        "Legal, safety, fraud and regulator mentions are high or critical, in both languages",
        arguments: [
            ("律师函已经准备好了，你们等着吧", "legal_threat", ComplaintSeverity.high),
            ("再不退款我就去法院起诉你们", "legal_threat", .high),
            ("My lawyer will be in touch about this.", "legal_threat", .high),
            ("I am going to sue your company.", "legal_threat", .high),
            ("充电宝充电的时候起火了，差点烧了房子", "safety", .critical),
            ("热水壶漏电，我被电到手受伤了", "safety", .critical),
            ("The charger caught fire and my son was injured.", "safety", .critical),
            ("我的信用卡被盗刷了三笔", "fraud", .critical),
            ("There is an unauthorized charge of $499 on my card.", "fraud", .critical),
            ("这是诈骗！", "fraud", .critical),
            ("已经向消协投诉了，还要打12315", "regulator", .high),
            ("I have reported you to the ombudsman and the regulator.", "regulator", .high),
        ]
    )
    func signals(text: String, signal: String, severity: ComplaintSeverity) throws {
        let result = try Fixture.classify(text)
        #expect(result.signals.contains(signal))
        #expect(result.severity == severity)
    }

    @Test("The matched keywords are kept for audit, category first, then signals")
    func audit() throws {
        let result = try Fixture.classify("重复扣款，要求退款，否则找律师")
        #expect(result.category == .billing)
        #expect(result.matched.contains("退款"))
        #expect(result.matched.contains("律师"))
        let firstSignalTerm = try #require(result.matched.firstIndex(of: "律师"))
        let categoryTerm = try #require(result.matched.firstIndex(of: "退款"))
        #expect(categoryTerm < firstSignalTerm)
        #expect(result.signals == ["legal_threat"])
    }

    @Test("Without signals the category's base severity applies")
    func baseSeverity() throws {
        #expect(try Fixture.classify("重复扣款，要求退款").severity == .medium)
        #expect(try Fixture.classify("客服态度很差").severity == .low)
    }

    @Test("A price of 315 yuan is not a regulator mention, a call to 12315 is")
    func regulatorNumbers() throws {
        #expect(!(try Fixture.classify("这个商品我付了315元，质量太差").signals.contains("regulator")))
        #expect(try Fixture.classify("我要打12315").signals.contains("regulator"))
    }

    @Test(
        "A repeat complaint raises severity one step",
        arguments: [
            CustomerSnapshot(tier: .silver, openComplaints: 1),
            CustomerSnapshot(tier: .silver, recentComplaints: 2),
        ]
    )
    func repeatRaises(customer: CustomerSnapshot) throws {
        let first = try Fixture.classify("包裹一直没有送到")
        let again = try Fixture.classify("包裹一直没有送到", customer: customer)
        #expect(first.severity == .medium)
        #expect(again.severity == .high)
        #expect(again.signals.contains(ComplaintClassifier.repeatSignal))
    }

    @Test("One earlier complaint that is closed is not a repeat")
    func notRepeat() throws {
        let result = try Fixture.classify("包裹一直没有送到", customer: CustomerSnapshot(tier: .gold, recentComplaints: 1))
        #expect(result.severity == .medium)
        #expect(!result.signals.contains(ComplaintClassifier.repeatSignal))
    }

    @Test("Critical stays critical when repeated")
    func criticalCap() throws {
        let result = try Fixture.classify("手机爆炸了", customer: CustomerSnapshot(tier: .bronze, openComplaints: 3))
        #expect(result.severity == .critical)
    }

    @Test("Severity order and raising")
    func ordering() {
        #expect(ComplaintSeverity.low < .medium && ComplaintSeverity.high < .critical)
        #expect(ComplaintSeverity.medium.raised == .high)
        #expect(ComplaintSeverity.critical.raised == .critical)
    }
}
