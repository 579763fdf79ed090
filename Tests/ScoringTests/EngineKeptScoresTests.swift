import CRMContract
import Foundation
import Testing

@testable import Scoring

/// Which scores a full rescoring of the present keeps as stored: the same codes, counts and money, and the daily
/// figures within their tolerance.
@Suite struct EngineKeptScoresTests {
    /// The CDNOW sample scored as of `asOf` by one model fitted at the end of its calibration period.
    static func scores(asOf: Date) throws -> [CustomerScore] {
        let activities = try EngineBaseModelTests.sampleActivities()
        var model = try FullRescoring.fit(
            activities,
            settings: EngineBaseModelTests.settings,
            asOf: EngineBaseModelTests.calibrationEnd
        )
        FullRescoring.calibrate(
            &model,
            activities: activities,
            predictions: FullRescoring.predict(activities, model: model)
        )
        let scorer = CustomerScorer(model: model)
        return activities.enumerated().map { index, activity in
            scorer.score(customerID: String(index), activity: activity, previous: nil, asOf: asOf)
        }
    }

    /// What `customer_scores` holds of `score` for the comparison.
    static func stored(_ score: CustomerScore) -> PreviousScore {
        PreviousScore(
            stage: score.stage,
            tier: score.tier,
            pAlive: score.pAlive,
            lastPurchaseAt: score.activity.lastPurchaseAt,
            grid: score.grid?.id,
            scoredAt: score.scoredAt,
            figuresDigest: score.figuresDigest,
            expectedPurchases90d: score.expectedPurchases90d,
            clvSimple: score.clv.simple,
            clvPredicted: score.clv.predicted
        )
    }

    @Test("a score is kept against itself, and its digest is the same however often it is computed")
    func unmovedAgainstItself() throws {
        let scores = try Self.scores(asOf: EngineBaseModelTests.calibrationEnd)
        for score in scores {
            #expect(KeptScores.isUnmoved(score, stored: Self.stored(score)))
        }
        let again = try Self.scores(asOf: EngineBaseModelTests.calibrationEnd)
        #expect(zip(scores, again).allSatisfy { $0.figuresDigest == $1.figuresDigest })
        // Different customers' figures give different digests.
        #expect(Set(scores.map(\.figuresDigest)).count > scores.count / 10)
    }

    @Test("a daily figure moved past its tolerance, a code, a count or a cent rewrites the score")
    func movedPastTolerance() throws {
        let scores = try Self.scores(asOf: EngineBaseModelTests.calibrationEnd)
        let score = try #require(
            scores.first { ($0.pAlive ?? 0) > 0.5 && ($0.clv.predicted ?? 0) > 10 && $0.expectedPurchases90d != nil }
        )
        let stored = Self.stored(score)
        func kept(_ change: (inout PreviousScore) -> Void) -> Bool {
            var changed = stored
            change(&changed)
            return KeptScores.isUnmoved(score, stored: changed)
        }
        #expect(kept { $0.pAlive! += 0.009 })
        #expect(!kept { $0.pAlive! += 0.011 })
        #expect(!kept { $0.pAlive = nil })
        #expect(kept { $0.clvPredicted! *= 1.009 })
        #expect(!kept { $0.clvPredicted! *= 1.011 })
        #expect(kept { $0.clvSimple! *= 0.991 })
        #expect(!kept { $0.clvSimple! *= 0.989 })
        #expect(kept { $0.expectedPurchases90d! *= 1.009 })
        #expect(!kept { $0.expectedPurchases90d! *= 1.011 })
        #expect(!kept { $0.figuresDigest = nil })
        #expect(!kept { $0.tier = $0.tier == .gold ? .silver : .gold })

        var more = score
        more.activity.orderCount += 1
        #expect(!KeptScores.isUnmoved(more, stored: stored))
        var cent = score
        cent.activity.netValue += 0.0001
        #expect(!KeptScores.isUnmoved(cent, stored: stored))
        // Below the four decimals money is stored with, nothing moved.
        var dust = score
        dust.activity.netValue += 0.000_01
        #expect(KeptScores.isUnmoved(dust, stored: stored))
        var rule = score
        rule.lifecycle = score.lifecycle == .noPurchase ? .pAliveBelowTermination : .noPurchase
        #expect(!KeptScores.isUnmoved(rule, stored: stored))
    }

    @Test("a day later, every kept score is within its tolerance of the day's, and every rewritten one is not")
    func aDayLater() throws {
        let day = try Self.scores(asOf: EngineBaseModelTests.calibrationEnd)
        let next = try Self.scores(asOf: EngineBaseModelTests.calibrationEnd.addingTimeInterval(86_400))
        var kept = 0
        for (before, after) in zip(day, next) {
            let within =
                before.figuresDigest == after.figuresDigest
                && Self.close(after.pAlive, before.pAlive) { abs($0 - $1) <= 0.01 }
                && Self.close(after.expectedPurchases90d, before.expectedPurchases90d) {
                    abs($0 - $1) <= max(0.01 * abs($1), 0.001)
                }
                && Self.close(after.clv.simple, before.clv.simple) { abs($0 - $1) <= max(0.01 * abs($1), 0.01) }
                && Self.close(after.clv.predicted, before.clv.predicted) { abs($0 - $1) <= max(0.01 * abs($1), 0.01) }
            let unmoved = KeptScores.isUnmoved(after, stored: Self.stored(before))
            #expect(unmoved == within, "customer \(after.customerID)")
            if unmoved { kept += 1 }
        }
        // A day moves some of the base and keeps most of it.
        #expect(kept > day.count / 2)
        #expect(kept < day.count)
    }

    private static func close(_ new: Double?, _ old: Double?, _ test: (Double, Double) -> Bool) -> Bool {
        guard let new, let old else { return new == nil && old == nil }
        return test(new, old)
    }
}
