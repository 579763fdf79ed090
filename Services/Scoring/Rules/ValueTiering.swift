import CRMContract

/// A customer's tier, nine-grid cell and strategy, with the value that placed them.
public struct ValuePlacement: Hashable, Sendable, Codable {
    /// The value tier (`tier`).
    public var tier: ValueTier
    /// The nine-grid cell (`grid` is its `id`).
    public var cell: NineGridCell
    /// The ranked lifetime value, currency units.
    public var value: Double
    /// The basis the value came from; `historical` where `predicted` was asked for but missing.
    public var valueBasis: ValueBasis

    /// The cell's strategy.
    public var strategy: GridStrategy { cell.strategy }
}

/// Places customers into value tiers and the nine-grid against the base's cut-offs.
///
/// Value level is the tier (gold high, silver mid, bronze low). The second axis is profitability
/// (margin rate) where every order carries cost, and growth (spend trend) where not, so customers
/// with and without cost data each get a meaningful cell; see ``NineGridCell`` for both tables.
public struct ValueTiering: Hashable, Sendable {
    /// The settings in use.
    public let settings: TieringSettings
    /// The cut-offs in use, from a full rescoring.
    public let cutoffs: TierCutoffs

    /// Tiering against stored or freshly computed cut-offs.
    public init(cutoffs: TierCutoffs, settings: TieringSettings = TieringSettings()) {
        self.cutoffs = cutoffs
        self.settings = settings
    }

    /// Tiering whose cut-offs come from the whole base's lifetime values. O(n log n).
    public init(base: some Sequence<CLVFigures>, settings: TieringSettings = TieringSettings()) {
        self.init(cutoffs: TierCutoffs(base: base, settings: settings), settings: settings)
    }

    /// The tier alone, for a customer's lifetime values.
    public func tier(for figures: CLVFigures) -> ValueTier {
        cutoffs.tier(forValue: figures.value(for: cutoffs.valueBasis).value)
    }

    /// Tier, cell and strategy of one customer.
    ///
    /// - Parameters:
    ///   - figures: The customer's lifetime values.
    ///   - marginRate: Margin ÷ revenue when every order carries cost (``CustomerFacts/marginRate``), else nil.
    ///   - trend: The spend trend (``ActivityTrends/spend``); nil when there is too little history, read as stable.
    public func place(_ figures: CLVFigures, marginRate: Double?, trend: ValueTrend?) -> ValuePlacement {
        let ranked = figures.value(for: cutoffs.valueBasis)
        let tier = cutoffs.tier(forValue: ranked.value)
        let cell: NineGridCell
        if let marginRate {
            cell = NineGridCell(value: tier.level, second: profitabilityLevel(marginRate), axis: .profitability)
        } else {
            cell = NineGridCell(value: tier.level, second: growthLevel(trend), axis: .growth)
        }
        return ValuePlacement(tier: tier, cell: cell, value: ranked.value, valueBasis: ranked.basis)
    }

    /// High at or above `highMarginRate`, low below `lowMarginRate`, mid between.
    public func profitabilityLevel(_ marginRate: Double) -> GridLevel {
        if marginRate >= settings.highMarginRate { return .high }
        if marginRate < settings.lowMarginRate { return .low }
        return .mid
    }

    /// Rising is high, falling low; stable and unknown are mid, since no trend is no evidence either way.
    public func growthLevel(_ trend: ValueTrend?) -> GridLevel {
        switch trend {
        case .rising?: return .high
        case .falling?: return .low
        case .stable?, nil: return .mid
        }
    }
}
