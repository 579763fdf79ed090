import Foundation

/// What a full rescoring learned about the whole customer base, stored in `scoring_models` and reused by every
/// incremental scoring until the next full one: the fitted models, the RFM quintiles and the tier cut-offs.
public struct ScoringModel: Sendable, Codable {
    /// A fitted model with its fit statistics.
    public struct Fitted<Parameters: Sendable & Codable>: Sendable, Codable {
        /// The parameters.
        public var parameters: Parameters
        /// Log-likelihood at the parameters.
        public var logLikelihood: Double
        /// Optimizer iterations of the best start.
        public var iterations: Int
        /// Whether the optimizer converged.
        public var converged: Bool
        /// Customers in the fit.
        public var customers: Int

        init(_ fit: ModelFit<Parameters>) {
            parameters = fit.model
            logLikelihood = fit.logLikelihood
            iterations = fit.iterations
            converged = fit.converged
            customers = fit.customerCount
        }
    }

    /// Row id in `scoring_models`; nil before it is stored.
    public var modelID: Int64?
    /// The time the model describes: orders after it were left out.
    public var asOf: Date
    /// Whether the as-of time was asked for (a replay) rather than the wall clock.
    public var asOfRequested: Bool
    /// When the rescoring finished.
    public var fittedAt: Date
    /// Customers scored.
    public var customers: Int
    /// The settings the model was made with.
    public var settings: ScoringConfiguration
    /// BG/NBD; nil when the base was too small to fit.
    public var bgnbd: Fitted<BGNBD>?
    /// Gamma-Gamma; nil when too few customers have repeat purchases of value.
    public var gammaGamma: Fitted<GammaGamma>?
    /// RFM quintiles of the customers with purchases.
    public var rfm: RFMBreakpoints?
    /// The value cut-offs of the tiers.
    public var tierCutoffs: TierCutoffs?
    /// Figures of the run: seconds per phase, customers per stage and tier, events published.
    public var statistics: [String: Double]

    /// The discounted-value model over the settings' horizon, when both models are fitted.
    public var lifetimeValue: LifetimeValue? {
        guard let bgnbd, let gammaGamma else { return nil }
        return LifetimeValue(
            transactions: bgnbd.parameters,
            spend: gammaGamma.parameters,
            modelUnit: settings.timeUnit,
            periods: settings.horizonMonths,
            period: .month,
            discountRate: settings.monthlyDiscountRate
        )
    }

    /// A model that knows nothing yet: scoring before the first full rescoring uses it.
    public static func empty(settings: ScoringConfiguration, asOf: Date) -> ScoringModel {
        ScoringModel(
            modelID: nil,
            asOf: asOf,
            asOfRequested: false,
            fittedAt: asOf,
            customers: 0,
            settings: settings,
            bgnbd: nil,
            gammaGamma: nil,
            rfm: nil,
            tierCutoffs: nil,
            statistics: [:]
        )
    }
}
