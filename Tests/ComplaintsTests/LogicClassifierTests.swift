import Complaints
import Testing

@Suite("Classifier: categories")
struct LogicClassifierTests {
    @Test(
        "Chinese complaints classify by character match",
        arguments: [
            ("包裹一直没有送到，已经等了十天", ComplaintCategory.delivery),
            ("重复扣款，要求退款", .billing),
            ("收到的商品有质量问题，屏幕碎了", .productQuality),
            ("客服态度很差，说话不耐烦还挂电话", .serviceAttitude),
            ("账号被锁，无法登录", .account),
            ("你们的快递员把包裹放在门口就走了", .delivery),
            ("我的订单扣了299元，可是优惠券没有用上，要求退钱", .billing),
        ]
    )
    func chinese(text: String, expected: ComplaintCategory) throws {
        let result = try Fixture.classify(text)
        #expect(result.category == expected)
        #expect(result.categorySource == .rules)
        #expect(!result.matched.isEmpty)
    }

    @Test(
        "English complaints classify",
        arguments: [
            (
                "Parcel never arrived. It has been two weeks and the tracking number shows nothing.",
                ComplaintCategory.delivery
            ),
            ("I was charged twice for order A-1001 and I want a refund.", .billing),
            ("The blender is defective, the motor stopped working after one day.", .productQuality),
            ("Your agent was extremely rude and hung up on me.", .serviceAttitude),
            ("I am locked out of my account and cannot log in, the password reset never comes.", .account),
            ("My card was charged twice on my account this month", .billing),
        ]
    )
    func english(text: String, expected: ComplaintCategory) throws {
        #expect(try Fixture.classify(text).category == expected)
    }

    @Test("Subject and body are read together")
    func subjectAndBody() throws {
        let policy = try Fixture.policy()
        let complaint = Fixture.complaint(subject: "Parcel never arrived", body: "Order A-1001, ordered on Monday.")
        #expect(policy.classifier.classify(complaint, customer: .unknown).category == .delivery)
    }

    @Test("Full-width Latin and digits match half-width keywords")
    func fullWidth() throws {
        let result = try Fixture.classify("ＩＷＡＳ ＣＨＡＲＧＥＤ ＴＷＩＣＥ，ＲＥＦＵＮＤ ｐｌｅａｓｅ")
        #expect(result.category == .billing)
        #expect(result.matched.contains("refund"))
        #expect(result.matched.contains("charged twice"))
    }

    @Test("Case and full-width forms of Chinese punctuation do not hide keywords")
    func mixedWidthChinese() throws {
        #expect(try Fixture.classify("【投诉】账号　被锁？无法　登录！").category == .account)
    }

    @Test("An upstream hint naming a category or alias wins over the text")
    func hintHonoured() throws {
        let byName = try Fixture.classify("重复扣款，要求退款", hint: "delivery")
        #expect(byName.category == .delivery)
        #expect(byName.categorySource == .hint)
        #expect(try Fixture.classify("重复扣款", hint: "Product Quality").category == .productQuality)
        #expect(try Fixture.classify("重复扣款", hint: "物流").category == .delivery)
    }

    @Test("An unknown hint is ignored and the text decides")
    func unknownHint() throws {
        let result = try Fixture.classify("重复扣款，要求退款", hint: "weather")
        #expect(result.category == .billing)
        #expect(result.categorySource == .rules)
    }

    @Test("Text without enough evidence is other")
    func fallback() throws {
        let result = try Fixture.classify("Hello, I have a question about your opening times.")
        #expect(result.category == .other)
        #expect(result.categorySource == .fallback)
        #expect(result.severity == .low)
    }

    @Test("Latin keywords need word boundaries, Chinese ones do not")
    func boundaries() throws {
        // "sue you" must not be found in "issue you", nor "court" in "courteous".
        let issue = try Fixture.classify("The courteous agent said the issue you reported is closed.")
        #expect(!issue.signals.contains("legal_threat"))
        let sue = try Fixture.classify("If this is not fixed I will sue you.")
        #expect(sue.signals.contains("legal_threat"))
        #expect(try Fixture.classify("再不处理我就起诉你们").signals.contains("legal_threat"))
    }

    @Test("Only the start of a long body is read; the subject always is")
    func longBody() throws {
        #expect(try Fixture.policy().rules.classification.maxTextCharacters == 8000)
        let rules = ClassificationRules(
            categories: [.init(name: .delivery, keywords: [.init(weight: 3, terms: ["没有送到"])])],
            severitySignals: [.init(name: "legal_threat", severity: .high, keywords: ["律师"])],
            maxTextCharacters: 200
        )
        let classifier = try ComplaintClassifier(rules: rules)
        let filler = String(repeating: "我上周买的东西到现在还没有消息。", count: 20)
        let late = classifier.classify(Fixture.complaint(body: "包裹一直没有送到" + filler + "律师"), customer: .unknown)
        #expect(late.category == .delivery)
        #expect(late.signals.isEmpty)  // "律师" lies beyond max_text_characters
        let inSubject = classifier.classify(Fixture.complaint(subject: "律师函", body: filler), customer: .unknown)
        #expect(inSubject.signals == ["legal_threat"])
    }

    @Test("Weights are summed per category and the earlier category wins a tie")
    func scoringAndTies() throws {
        let rules = ClassificationRules(
            minScore: 2,
            categories: [
                .init(name: "first", keywords: [.init(weight: 2, terms: ["alpha"])]),
                .init(
                    name: "second",
                    keywords: [.init(weight: 2, terms: ["beta"]), .init(weight: 1, terms: ["gamma"])]
                ),
            ],
            severitySignals: []
        )
        let classifier = try ComplaintClassifier(rules: rules)
        let tie = classifier.classify(Fixture.complaint(body: "alpha beta"), customer: .unknown)
        #expect(tie.category == "first")
        let summed = classifier.classify(Fixture.complaint(body: "alpha beta gamma"), customer: .unknown)
        #expect(summed.category == "second")
        #expect(summed.score == 3)
        #expect(summed.matched == ["beta", "gamma"])
    }
}
