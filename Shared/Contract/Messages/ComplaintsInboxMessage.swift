import CRMSupport
import Foundation

/// What the `complaints.inbox` queue carries: a new complaint or a desk's status update, told apart by `schema`.
public enum ComplaintsInboxMessage: Sendable, Equatable {
    /// A new complaint (`complaint.v1`).
    case complaint(ComplaintMessage)
    /// A status update from a desk (`complaint-status.v1`).
    case status(ComplaintStatusMessage)

    /// The schemas this queue takes.
    public static let schemas = [ComplaintMessage.schema, ComplaintStatusMessage.schema]

    /// Decodes and validates a body from `complaints.inbox`, or says why it cannot be accepted.
    public static func decode(body: Data) throws(MessageRejection) -> Self {
        let checked = try MessageBody.check(body)
        switch checked.schema {
        case ComplaintMessage.schema:
            return .complaint(try MessageBody.decode(ComplaintMessage.self, from: checked))
        case ComplaintStatusMessage.schema:
            return .status(try MessageBody.decode(ComplaintStatusMessage.self, from: checked))
        default:
            throw MessageBody.unknownSchema(checked.schema)
        }
    }

    /// The complaint the message is about.
    public var complaintID: Identifier {
        switch self {
        case .complaint(let complaint): complaint.complaintID
        case .status(let status): status.complaintID
        }
    }
}
