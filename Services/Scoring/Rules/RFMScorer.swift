import CRMSupport

/// RFM settings. Config key prefix `crm.scoring.rfm`.
public struct RFMSettings: Hashable, Sendable, Codable {
    /// Which monetary figure the M score ranks (`crm.scoring.rfm.monetary_basis`); default `total`.
    public var monetaryBasis: RFMMonetaryBasis

    /// Creates settings; every argument has the documented default.
    public init(monetaryBasis: RFMMonetaryBasis = .total) {
        self.monetaryBasis = monetaryBasis
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(monetaryBasis: try container.decode(.monetaryBasis, default: RFMSettings().monetaryBasis))
    }
}

/// The quintile cut-offs of the whole base for R, F and M: the stored result of a full rescoring.
public struct RFMBreakpoints: Hashable, Sendable, Codable {
    /// How many customers the cut-offs were computed from.
    public var baseSize: Int
    /// Which monetary figure the M cut-offs rank.
    public var monetaryBasis: RFMMonetaryBasis
    /// Cut-offs on recency days (fewer is better).
    public var recency: QuintileBreakpoints
    /// Cut-offs on purchase counts.
    public var frequency: QuintileBreakpoints
    /// Cut-offs on the monetary figure named by `monetaryBasis`.
    public var monetary: QuintileBreakpoints

    /// Computes the cut-offs from every scored customer. O(n log n) time, O(n) transient memory.
    public init(base: some Sequence<RFMValues>, settings: RFMSettings = RFMSettings()) {
        let customers = Array(base)
        self.baseSize = customers.count
        self.monetaryBasis = settings.monetaryBasis
        self.recency = QuintileBreakpoints(values: customers.map { Double($0.recencyDays) }, direction: .lowerIsBetter)
        self.frequency = QuintileBreakpoints(values: customers.map { Double($0.frequency) }, direction: .higherIsBetter)
        self.monetary = QuintileBreakpoints(
            values: customers.map { $0.monetary(settings.monetaryBasis) },
            direction: .higherIsBetter
        )
    }
}

/// Scores customers 1...5 on recency, frequency and monetary value against the base's quintiles.
///
/// Build it once per full rescoring from the base (or from stored ``RFMBreakpoints``) and score each
/// customer in constant time; a customer scored between rescorings is placed against the last
/// base, which is the point of storing the cut-offs.
public struct RFMScorer: Hashable, Sendable {
    /// The cut-offs in use.
    public let breakpoints: RFMBreakpoints

    /// A scorer for stored or freshly computed cut-offs.
    public init(breakpoints: RFMBreakpoints) {
        self.breakpoints = breakpoints
    }

    /// A scorer whose cut-offs come from `base`, the current customers with at least one purchase.
    public init(base: some Sequence<RFMValues>, settings: RFMSettings = RFMSettings()) {
        self.init(breakpoints: RFMBreakpoints(base: base, settings: settings))
    }

    /// The R, F and M scores of one customer. O(1) in the size of the base.
    public func score(_ values: RFMValues) -> RFMScore {
        RFMScore(
            r: breakpoints.recency.score(Double(values.recencyDays)),
            f: breakpoints.frequency.score(Double(values.frequency)),
            m: breakpoints.monetary.score(values.monetary(breakpoints.monetaryBasis))
        )
    }
}
