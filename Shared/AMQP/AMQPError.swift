import CRMSupport

/// A failure talking to RabbitMQ, with enough context to act on and no secrets.
public struct AMQPError: Error, CustomStringConvertible, Sendable, FailureSummarizing {
    /// What kind of failure this is.
    public enum Code: String, Sendable {
        /// The TCP or TLS connection could not be opened.
        case connectionFailed
        /// The broker refused the credentials or the virtual host.
        case accessRefused
        /// The connection broke or timed out while in use.
        case connectionLost
        /// The broker closed the channel or connection (`replyCode` says why).
        case closedByBroker
        /// The broker negatively acknowledged a publish.
        case publishNacked
        /// The broker returned a mandatory publish as unroutable.
        case unroutable
        /// No confirm arrived within the deadline.
        case confirmTimeout
        /// The library reported an error not covered above.
        case library
    }

    public var code: Code
    /// A short description of the operation that failed, e.g. `queue.declare intake.orders`.
    public var operation: String
    /// The broker's reply code and text when it closed the channel or connection.
    public var replyCode: Int?
    public var detail: String

    public init(_ code: Code, operation: String, replyCode: Int? = nil, detail: String = "") {
        self.code = code
        self.operation = operation
        self.replyCode = replyCode
        self.detail = detail
    }

    /// Whether retrying on a fresh connection may succeed.
    public var isTransient: Bool {
        switch code {
        case .connectionFailed, .connectionLost, .publishNacked, .confirmTimeout, .unroutable: true
        case .closedByBroker: replyCode.map { $0 == 320 || $0 == 504 || $0 == 505 || $0 == 506 } ?? true
        case .accessRefused, .library: false
        }
    }

    /// What failed, by code and reply, without the broker's text.
    public var failureSummary: String {
        "broker \(code.rawValue)" + (replyCode.map { " (reply \($0))" } ?? "")
    }

    /// The summary and the operation (names of exchanges and queues, no message content).
    public var failureDetail: String { "\(failureSummary) during \(operation)" }

    public var description: String {
        var text = "AMQP \(code.rawValue) during \(operation)"
        if let replyCode { text += " (reply \(replyCode))" }
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }
}
