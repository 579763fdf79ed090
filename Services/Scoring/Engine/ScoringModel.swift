import Foundation

/// What a full rescoring learned about the whole customer base, stored in `scoring_models` and reused by every
/// incremental scoring until the next full one: the fitted models, the one selected for the scores, the RFM
/// quintiles and the tier cut-offs.
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
        /// Asymptotic standard error of each parameter, keyed as the parameters; nil when the Hessian at the
        /// estimates is not positive definite (or for a model stored before they were kept).
        public var standardErrors: [String: Double]?
        /// The Hessian in ln θ at the parameters (``ModelFit/logHessian``), from which the next run's fit starts its
        /// search; nil at a bound, and for a fit stored before it was kept.
        public var logHessian: [Double]?
        /// When this run's fit failed and an earlier model's fit is in use instead: that model's id.
        public var carriedOverFrom: Int64?
        /// Why this run's fit failed (a ``ModelFitError/Code``), when ``carriedOverFrom`` is set.
        public var fitFailure: String?

        init(_ fit: ModelFit<Parameters>) {
            parameters = fit.model
            logLikelihood = fit.logLikelihood
            iterations = fit.iterations
            converged = fit.converged
            customers = fit.customerCount
            standardErrors = fit.standardErrors
            logHessian = fit.logHessian
        }

        /// This fit, kept in use by a later run of model `previousID` whose own fit failed with `failure`.
        func carriedOver(from previousID: Int64?, failure: String) -> Fitted {
            var carried = self
            carried.carriedOverFrom = carriedOverFrom ?? previousID
            carried.fitFailure = failure
            return carried
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
    /// MBG/NBD; nil when the base was too small to fit.
    public var mbgnbd: Fitted<MBGNBD>? = nil
    /// Pareto/NBD; nil when the base was too small to fit.
    public var paretoNBD: Fitted<ParetoNBD>? = nil
    /// Gamma-Gamma; nil when too few customers have repeat purchases of value.
    public var gammaGamma: Fitted<GammaGamma>?
    /// Which purchase model the scores carry, and why; nil before any is fitted.
    public var selection: PurchaseModelSelection? = nil
    /// The fits that failed in this run (`bgnbd`, `mbgnbd`, `pareto_nbd`, `gamma_gamma`), with why (a
    /// ``ModelFitError/Code``); each failed model is the previous model's fit when there was one (see
    /// ``Fitted/carriedOverFrom``), else absent.
    public var fitFailures: [String: String] = [:]
    /// RFM quintiles of the customers with purchases.
    public var rfm: RFMBreakpoints?
    /// The value cut-offs of the tiers.
    public var tierCutoffs: TierCutoffs?
    /// The distribution of the predicted values of the customers with purchases: `three_degree.contribution`'s
    /// percentiles. Nil without a fitted purchase model (and in models stored before it was kept).
    public var valueQuantiles: ValueQuantiles? = nil
    /// Figures of the run: seconds per phase, customers per stage and tier, events published.
    public var statistics: [String: Double]

    /// The purchase model the scores carry: the selected one, BG/NBD for a model stored before the selection.
    public var selected: PurchaseModelKind { selection?.selected ?? .bgnbd }

    /// The parameters of the selected purchase model, when it is fitted.
    public var purchaseModel: (any PurchaseModel)? {
        purchaseModel(selected)
    }

    /// The parameters of `kind`, when it is fitted.
    public func purchaseModel(_ kind: PurchaseModelKind) -> (any PurchaseModel)? {
        switch kind {
        case .bgnbd: bgnbd?.parameters
        case .mbgnbd: mbgnbd?.parameters
        case .paretoNBD: paretoNBD?.parameters
        }
    }

    /// The purchase models that are fitted (or carried over), in the order of ``PurchaseModelKind/allCases``.
    public var fittedKinds: [PurchaseModelKind] {
        PurchaseModelKind.allCases.filter { purchaseModel($0) != nil }
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

/// Which purchase model a stored model's scores carry, and why: `CRM_SCORING_MODEL` names one, or under `auto` the
/// lowest holdout error of the newest validation picks it.
public struct PurchaseModelSelection: Sendable, Hashable, Codable {
    /// What decided.
    public enum Basis: String, Sendable, Hashable, Codable {
        /// `CRM_SCORING_MODEL` names the model.
        case configured
        /// `auto`: the lowest mean absolute error per customer in the newest validation.
        case holdoutError = "holdout_error"
        /// `auto` without a validation (or none of whose models is fitted): BG/NBD.
        case noValidation = "no_validation"
        /// The model asked for could not be fitted and none was in use before: the first fitted one instead.
        case fallback
    }

    /// The setting in force (`CRM_SCORING_MODEL`).
    public var setting: PurchaseModelChoice
    /// The model the scores carry.
    public var selected: PurchaseModelKind
    /// What decided.
    public var basis: Basis
    /// The validation whose holdout errors decided, under `auto`.
    public var validationID: Int64?
    /// Mean absolute error per customer of each model in that validation.
    public var holdoutErrors: [String: Double]?
    /// The decision in words, for `crm model`.
    public var reason: String

    enum CodingKeys: String, CodingKey {
        case setting, selected, basis, reason
        case validationID = "validation_id"
        case holdoutErrors = "holdout_mae"
    }

    /// A selection from its parts.
    public init(
        setting: PurchaseModelChoice,
        selected: PurchaseModelKind,
        basis: Basis,
        validationID: Int64? = nil,
        holdoutErrors: [String: Double]? = nil,
        reason: String
    ) {
        self.setting = setting
        self.selected = selected
        self.basis = basis
        self.validationID = validationID
        self.holdoutErrors = holdoutErrors
        self.reason = reason
    }
}
