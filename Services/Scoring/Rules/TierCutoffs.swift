import CRMContract
import CRMSupport

/// The value cut-offs of the gold and silver tiers: the stored result of a full rescoring.
///
/// A customer is gold when at least `1 − goldShare` of the base is strictly below them in value,
/// silver when at least `1 − goldShare − silverShare` is, bronze otherwise: the same "strictly
/// worse" convention as RFM, so on distinct values exactly the top 20 % are gold. The base is the
/// customers with positive value; customers without positive value are bronze and do not dilute
/// the shares (a base where half never bought would otherwise make the top 40 % of buyers gold).
/// Ties at a cut-off stay together, below it. An empty base makes everyone bronze.
public struct TierCutoffs: Hashable, Sendable {
    /// The value basis the cut-offs rank.
    public let valueBasis: ValueBasis
    /// Gold when value > this; nil for an empty base.
    public let gold: Double?
    /// Silver when value > this (and not gold); nil for an empty base.
    public let silver: Double?
    /// Customers with positive value the cut-offs were computed from.
    public let baseSize: Int

    /// Computes cut-offs from the whole base's lifetime values. O(n).
    public init(base: some Sequence<CLVFigures>, settings: TieringSettings = TieringSettings()) {
        self.init(values: base.map { $0.value(for: settings.valueBasis).value }, settings: settings)
    }

    /// Computes cut-offs from every customer's value under `settings.valueBasis` (``CLVFigures/value(for:)``). O(n).
    public init(values all: [Double], settings: TieringSettings = TieringSettings()) {
        let values = all.filter { $0 > 0 && $0.isFinite }
        let cutoffs = RankThreshold.cutoffs(
            values,
            direction: .higherIsBetter,
            shares: [1 - settings.goldShare, 1 - (settings.goldShare + settings.silverShare)]
        )
        self.valueBasis = settings.valueBasis
        self.baseSize = values.count
        self.gold = cutoffs[0]
        self.silver = cutoffs[1]
    }

    /// Restores stored cut-offs, checking both are present or both absent and silver ≤ gold.
    public init(valueBasis: ValueBasis, gold: Double?, silver: Double?, baseSize: Int) throws {
        switch (gold, silver) {
        case (nil, nil): break
        case (let gold?, let silver?) where silver <= gold && gold.isFinite && silver.isFinite: break
        default:
            throw ScoringRulesError(
                code: .invalidStoredValue,
                context: "tier cut-offs need gold and silver both set with silver ≤ gold, or neither"
            )
        }
        self.valueBasis = valueBasis
        self.gold = gold
        self.silver = silver
        self.baseSize = max(baseSize, 0)
    }

    /// The tier of a customer whose ranked value is `value`.
    public func tier(forValue value: Double) -> ValueTier {
        if let gold, value > gold { return .gold }
        if let silver, value > silver { return .silver }
        return .bronze
    }
}

// MARK: - Codable

extension TierCutoffs: Codable {
    enum CodingKeys: String, CodingKey {
        case valueBasis
        case gold
        case silver
        case baseSize
    }

    /// Decodes and re-validates stored cut-offs.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        do {
            try self.init(
                valueBasis: try container.decode(ValueBasis.self, forKey: .valueBasis),
                gold: try container.decodeIfPresent(Double.self, forKey: .gold),
                silver: try container.decodeIfPresent(Double.self, forKey: .silver),
                baseSize: try container.decode(Int.self, forKey: .baseSize)
            )
        } catch let error as ScoringRulesError {
            throw DecodingError.dataCorruptedError(forKey: .gold, in: container, debugDescription: error.context)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(valueBasis, forKey: .valueBasis)
        try container.encodeIfPresent(gold, forKey: .gold)
        try container.encodeIfPresent(silver, forKey: .silver)
        try container.encode(baseSize, forKey: .baseSize)
    }
}
