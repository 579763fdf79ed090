import CRMSupport
import Foundation

/// The checks every consumed body goes through, in a fixed order: size, UTF-8, JSON, `schema`, then fields.
///
/// The order makes the cheap, unambiguous refusals come first, so a hostile body costs one bounded pass.
public enum MessageBody {
    /// The largest body accepted, in bytes: 256 KiB, as the public interface states.
    public static let maximumSize = 262_144

    /// Reads the top-level `schema` of a body, checking size, encoding and JSON first.
    ///
    /// One queue can carry several kinds (`complaints.inbox` takes `complaint.v1` and `complaint-status.v1`);
    /// this tells them apart without decoding either.
    public static func peekSchema(_ body: Data) throws(MessageRejection) -> String {
        try check(body).schema
    }

    /// A body that passed the structural checks, with its schema read.
    struct Checked {
        let body: Data
        /// The body's bytes, as the scanner read them.
        let bytes: [UInt8]
        let schema: String
    }

    /// Checks size, UTF-8, JSON and the presence of a string `schema`.
    static func check(_ body: Data) throws(MessageRejection) -> Checked {
        guard body.count <= maximumSize else {
            throw MessageRejection(.tooLarge, field: "body", "larger than \(maximumSize) bytes")
        }
        let bytes = [UInt8](body)
        guard isValidUTF8(bytes) else {
            throw MessageRejection(.invalidUTF8, field: "body", "not valid UTF-8")
        }
        switch try JSONBodyScanner.scan(bytes) {
        case .absent:
            throw MessageRejection(.missingField, field: "schema", "missing")
        case .notAString:
            throw MessageRejection(.wrongType, field: "schema", "expected a string")
        case .string(let schema):
            return Checked(body: body, bytes: bytes, schema: schema)
        }
    }

    /// Decodes a checked body whose schema the caller has matched.
    static func decode<Message: Decodable>(
        _ type: Message.Type,
        from checked: Checked
    ) throws(MessageRejection) -> Message {
        try rejecting { try JSONDecoder().decode(Message.self, from: checked.body) }
    }

    /// Runs a decoding, turning what it throws into the rejection a sender reads: a ``MessageRejection`` as it is,
    /// a `DecodingError` by its path and kind.
    static func rejecting<Value>(_ decode: () throws -> Value) throws(MessageRejection) -> Value {
        do {
            return try decode()
        } catch let rejection as MessageRejection {
            throw rejection
        } catch let error as DecodingError {
            throw MessageRejection(error)
        } catch {
            throw MessageRejection(.invalidValue, field: "body", "could not be decoded")
        }
    }

    /// The rejection for a schema this consumer does not take.
    static func unknownSchema(_ schema: String) -> MessageRejection {
        MessageRejection(.unknownSchema, field: "schema", "unknown \(MessageRejection.quoted(schema))")
    }

    /// Whether the bytes are well-formed UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
    static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        // The standard library's parser implements the Unicode definition exactly, and allocates nothing.
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
