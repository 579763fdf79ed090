import CRMSupport
import Foundation

// MARK: - Decoding for intake

extension OrderMessage {
    /// Decodes and validates a raw body: intake's entry point (``contentHash`` is the fingerprint it stores).
    ///
    /// The same checks, in the same order and with the same reasons, as ``SchemaMessage/decode(body:)``: size,
    /// UTF-8 and JSON by `JSONBodyScanner`, then `schema`, then the fields by this type's `init(from:)`. Only the
    /// decoder under `init(from:)` differs: ``CheckedBodyDecoder`` reads the bytes the scanner has checked instead
    /// of Foundation's `JSONDecoder` mapping them again, several times faster.
    public static func decodeChecked(body: Data) throws(MessageRejection) -> OrderMessage {
        let checked = try MessageBody.check(body)
        guard checked.schema == schema else { throw MessageBody.unknownSchema(checked.schema) }
        return try MessageBody.rejecting { try CheckedBodyDecoder.decode(OrderMessage.self, from: checked) }
    }
}
