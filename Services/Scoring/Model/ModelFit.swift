/// The outcome of a maximum-likelihood fit: the fitted model and how the search ended.
public struct ModelFit<Model: Sendable>: Sendable {
    /// The fitted model (its parameters).
    public var model: Model
    /// Total log-likelihood of the data at the fitted parameters (natural log, summed over customers).
    public var logLikelihood: Double
    /// Optimizer iterations of the best start.
    public var iterations: Int
    /// Whether the gradient vanished (within tolerance) at the returned parameters.
    public var converged: Bool
    /// Customers the fit used (for Gamma-Gamma only those with repeat purchases of positive value).
    public var customerCount: Int
    /// Asymptotic standard error of each parameter, keyed by the parameter's property name ("r", "alpha", …):
    /// square roots of the diagonal of the inverse observed information (the Hessian of the total negative
    /// log-likelihood at the estimates). Nil when that Hessian is not positive definite, e.g. at a bound.
    public var standardErrors: [String: Double]?
    /// The Hessian of the mean negative log-likelihood per customer in ln θ at the estimates (row-major, in the
    /// order of the parameters), from which the standard errors come; nil at a bound. The next fit of a base that
    /// changed a little starts its search with this curvature (see
    /// ``maximumLikelihood(names:starts:warmStart:warmCurvature:customerCount:totalWeight:box:measuring:_:model:)``).
    public var logHessian: [Double]?

    /// A fit result from its parts.
    public init(
        model: Model,
        logLikelihood: Double,
        iterations: Int,
        converged: Bool,
        customerCount: Int,
        standardErrors: [String: Double]? = nil,
        logHessian: [Double]? = nil
    ) {
        self.model = model
        self.logLikelihood = logLikelihood
        self.iterations = iterations
        self.converged = converged
        self.customerCount = customerCount
        self.standardErrors = standardErrors
        self.logHessian = logHessian
    }
}

extension ModelFit: Equatable where Model: Equatable {}

/// Why a model could not be fitted; carries positions and counts, never customer data.
public struct ModelFitError: Error, CustomStringConvertible, Sendable, Hashable {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable {
        /// No customer the model can use (none at all, or for Gamma-Gamma none with repeat purchases of value).
        case noCustomers
        /// A summary breaks the rules of ``TransactionSummary/isValid`` (`index` says which one).
        case invalidSummary
        /// The likelihood was not finite at any starting point, or the search ended on non-finite parameters.
        case likelihoodNotFinite
        /// The data cannot identify the parameters: no repeat purchase at all, or no time observed, where the
        /// likelihood is flat or keeps rising towards a bound and any "estimate" would be an artefact.
        case degenerate
    }

    public var code: Code
    /// Position of the offending summary in the input, for ``Code/invalidSummary``.
    public var index: Int?

    /// An error of kind `code`, about the summary at `index` when there is one.
    public init(_ code: Code, index: Int? = nil) {
        self.code = code
        self.index = index
    }

    public var description: String {
        var text = "model fit failed: \(code.rawValue)"
        if let index { text += " (summary #\(index))" }
        return text
    }
}
