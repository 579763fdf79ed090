import CRMSupport
import Foundation

// MARK: - Reading the document

extension ComplaintRules {
    /// Decodes a rules document, turning a JSON or shape error into a configuration error that names the key.
    public static func decode(from json: Data) throws(ComplaintConfigurationError) -> ComplaintRules {
        do {
            return try JSONDecoder().decode(ComplaintRules.self, from: json)
        } catch let error as DecodingError {
            throw ComplaintConfigurationError(issues: [Self.issue(for: error)])
        } catch {
            throw ComplaintConfigurationError(issues: [.init(.malformedDocument, at: "document", "\(error)")])
        }
    }

    private static func issue(for error: DecodingError) -> ComplaintConfigurationError.Issue {
        let (path, detail): ([any CodingKey], String)
        switch error {
        case .typeMismatch(let type, let context):
            (path, detail) = (context.codingPath, "expected \(type): \(context.debugDescription)")
        case .valueNotFound(let type, let context):
            (path, detail) = (context.codingPath, "expected \(type), found null")
        case .keyNotFound(let key, let context):
            (path, detail) = (context.codingPath, "missing key \"\(key.stringValue)\"")
        case .dataCorrupted(let context):
            (path, detail) = (context.codingPath, context.debugDescription)
        @unknown default:
            (path, detail) = ([], "\(error)")
        }
        return .init(.malformedDocument, at: Self.location(path), detail)
    }

    /// `routing.rules[2].when`, as an operator would point at it.
    private static func location(_ path: [any CodingKey]) -> String {
        let text = path.reduce(into: "") { text, key in
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text.isEmpty ? "document" : text
    }
}

// MARK: - Strict keys

/// Any key, to see every key an object has, not only the known ones.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension Decoder {
    /// Rejects keys the type does not know, except comments (keys starting with `_`).
    ///
    /// Operators edit these rules by hand. Without this a misspelt `categroy_in` would be ignored and
    /// its rule would match every complaint; a misspelt `min_scroe` would silently fall back to the default.
    func rejectUnknownKeys<Keys: CodingKey>(_ keys: Keys.Type) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        for key in container.allKeys where Keys(stringValue: key.stringValue) == nil && !key.stringValue.hasPrefix("_")
        {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath + [key], debugDescription: "unknown key \"\(key.stringValue)\"")
            )
        }
    }
}
