/// An error that can say what went wrong without repeating any value: for a dead letter's `x-crm-error` and the logs,
/// which must hold no message content and no personal data.
public protocol FailureSummarizing: Error {
    /// A short, stable description, e.g. `database error 22003 (numeric value out of range)`.
    var failureSummary: String { get }
    /// More detail for a debug log (the statement, the operation), still without values.
    var failureDetail: String { get }
}

extension FailureSummarizing {
    public var failureDetail: String { failureSummary }
}

/// What can be said of any error without repeating its values: its summary when it offers one, else its type.
public func failureSummary(of error: any Error) -> (summary: String, detail: String) {
    if let error = error as? any FailureSummarizing { return (error.failureSummary, error.failureDetail) }
    let type = String(reflecting: Swift.type(of: error))
    return (type, type)
}
