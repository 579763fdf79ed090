import CRMContract
import Foundation

/// Which scores a full rescoring of the present leaves as they are stored.
///
/// A customer without new orders keeps its codes, counts and money from one day to the next; only the daily figures
/// drift (p_alive, the expected purchases, the simple and predicted values, the recency). Rewriting every score was
/// most of a rescoring's time, so a run of the present rewrites a score only when it moved: a code, a count or a sum
/// changed (``CustomerScore/figuresDigest`` against the stored digest), or a daily figure drifted past its tolerance
/// from the stored one. A kept score's figures are therefore never further than the tolerance from the run's; its
/// `scored_at` stays when they last moved, and every reader takes the later of that and the latest full rescoring's
/// as-of time (`Schema.scoreAsOf`), with the recency counted to it (`Schema.recencyDays`).
public enum KeptScores {
    /// How far p_alive may drift from the stored value before the score is rewritten: 0.01, a tenth of
    /// `eventPAliveChange`'s default, so a kept score never hides an event.
    public static let pAliveTolerance = 0.01
    /// How far, relative to the stored value, the expected purchases and the simple and predicted values may drift: 1%.
    public static let relativeTolerance = 0.01

    /// Whether `score` may stand as `stored` says it: the same digest, and every daily figure within its tolerance.
    public static func isUnmoved(_ score: CustomerScore, stored: PreviousScore) -> Bool {
        guard let digest = stored.figuresDigest, digest == score.figuresDigest,
            stored.stage == score.stage, stored.tier == score.tier, stored.grid == score.grid?.id
        else { return false }
        return within(score.pAlive, stored.pAlive, absolute: pAliveTolerance)
            && within(score.expectedPurchases90d, stored.expectedPurchases90d, floor: 0.001)
            && within(score.clv.simple, stored.clvSimple, floor: 0.01)
            && within(score.clv.predicted, stored.clvPredicted, floor: 0.01)
    }

    /// Both nil, or both numbers no further apart than `absolute`.
    private static func within(_ new: Double?, _ old: Double?, absolute: Double) -> Bool {
        switch (new, old) {
        case (nil, nil): return true
        case (let new?, let old?): return abs(new - old) <= absolute
        default: return false
        }
    }

    /// Both nil, or both numbers apart by no more than ``relativeTolerance`` of the stored one, or than `floor` (a
    /// cent, a thousandth of a purchase) where that is more.
    private static func within(_ new: Double?, _ old: Double?, floor: Double) -> Bool {
        guard let new, let old else { return new == nil && old == nil }
        return abs(new - old) <= max(relativeTolerance * abs(old), floor)
    }
}

extension CustomerScore {
    /// A digest of everything the score stores except its times and its daily figures: the counts, the purchase
    /// times, the money (at the four decimals it is stored with), the margin rate, RFM, the expected interval, the
    /// lifecycle rule, the tier and the nine-grid cell. Stable across processes and versions (FNV-1a over a fixed
    /// encoding), stored as `customer_scores.figures_digest`.
    public var figuresDigest: Int64 {
        var digest = FigureDigest()
        digest.add(activity.orderCount)
        digest.add(activity.transactions)
        digest.add(time: activity.firstPurchaseAt)
        digest.add(time: activity.lastPurchaseAt)
        digest.add(money: activity.netValue)
        digest.add(money: monetaryAverage)
        digest.add(money: clv.historical)
        digest.add(activity.marginRate)
        digest.add(activity.expectedIntervalDays)
        digest.add(rfm.map { $0.r * 100 + $0.f * 10 + $0.m })
        digest.add(rfm?.segment.rawValue)
        digest.add(lifecycle.rawValue)
        digest.add(tier.rawValue)
        digest.add(grid?.id)
        digest.add(grid?.axis.rawValue)
        digest.add(grid?.strategy.rawValue)
        return Int64(bitPattern: digest.value)
    }
}

/// FNV-1a, 64 bits, over a score's fields: each optional with a presence byte first, numbers as fixed-width
/// little-endian bytes, texts with their length.
struct FigureDigest {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    private mutating func byte(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }

    private mutating func word(_ word: UInt64) {
        var rest = word
        for _ in 0..<8 {
            byte(UInt8(truncatingIfNeeded: rest))
            rest >>= 8
        }
    }

    mutating func add(_ number: Int?) {
        guard let number else { return byte(0) }
        byte(1)
        word(UInt64(bitPattern: Int64(number)))
    }

    mutating func add(_ number: Double?) {
        guard let number else { return byte(0) }
        byte(1)
        word(number.bitPattern)
    }

    /// Money at four decimals, as stored.
    mutating func add(money: Double) {
        let scaled = (money * 10_000).rounded()
        // Beyond what an integer holds (a sum no order limit allows any more), the number itself.
        guard scaled.magnitude < 0x1p62 else { return add(money as Double?) }
        add(Int(scaled))
    }

    /// A time to the microsecond, as stored.
    mutating func add(time: Date?) {
        add(time.map { Int(($0.timeIntervalSince1970 * 1_000_000).rounded()) })
    }

    mutating func add(_ text: String?) {
        guard let text else { return byte(0) }
        byte(1)
        word(UInt64(text.utf8.count))
        for unit in text.utf8 { byte(unit) }
    }
}
