/// The eleven named RFM segments (`rfm.segment`): the usual map of the recency score R against the mean of the
/// frequency and monetary scores, FM = ⌊(F + M) / 2⌋, each 1 (worst fifth of the base) to 5 (best fifth).
///
/// | R \ FM | 1              | 2                  | 3                  | 4          | 5           |
/// |--------|----------------|--------------------|--------------------|------------|-------------|
/// | 5      | new            | potential_loyalist | potential_loyalist | champions  | champions   |
/// | 4      | promising      | potential_loyalist | potential_loyalist | loyal      | loyal       |
/// | 3      | about_to_sleep | about_to_sleep     | need_attention     | loyal      | loyal       |
/// | 2      | hibernating    | hibernating        | at_risk            | at_risk    | cannot_lose |
/// | 1      | lost           | lost               | at_risk            | at_risk    | cannot_lose |
///
/// FM is rounded down, so a segment that asks for FM 4 or more asks for an average of at least 4: F 5 and M 3 is
/// FM 4, F 4 and M 3 is FM 3. docs/scoring.md shows the same map.
public enum RFMSegment: String, CaseIterable, Codable, Hashable, Sendable {
    /// Bought recently, buy often and spend the most.
    case champions
    /// Buy often and spend well, and not long ago.
    case loyal
    /// Recent customers of average frequency and value: could become loyal.
    case potentialLoyalist = "potential_loyalist"
    /// Bought very recently, for the first time or little so far.
    case new
    /// Recent, but bought little so far.
    case promising
    /// Average recency, frequency and value.
    case needAttention = "need_attention"
    /// Below-average recency and value: slipping away.
    case aboutToSleep = "about_to_sleep"
    /// Bought often or spent well, but long ago.
    case atRisk = "at_risk"
    /// Among the best by frequency and value, and not seen for a long time.
    case cannotLose = "cannot_lose"
    /// Long gone, little bought.
    case hibernating
    /// The longest gone with the least bought.
    case lost

    /// The map, row R = 5 first, columns FM = 1 to 5.
    public static let map: [[RFMSegment]] = [
        [.new, .potentialLoyalist, .potentialLoyalist, .champions, .champions],
        [.promising, .potentialLoyalist, .potentialLoyalist, .loyal, .loyal],
        [.aboutToSleep, .aboutToSleep, .needAttention, .loyal, .loyal],
        [.hibernating, .hibernating, .atRisk, .atRisk, .cannotLose],
        [.lost, .lost, .atRisk, .atRisk, .cannotLose],
    ]

    /// The segment of the scores R, F and M (each 1 to 5; values outside are clamped).
    public init(r: Int, f: Int, m: Int) {
        let clamp = { (score: Int) in min(max(score, 1), 5) }
        let fm = (clamp(f) + clamp(m)) / 2
        self = Self.map[5 - clamp(r)][fm - 1]
    }
}

extension RFMScore {
    /// The named segment of these scores.
    public var segment: RFMSegment { RFMSegment(r: r, f: f, m: m) }
}
