/// Renders where a field sits in a message, the way a person reads it: `customer.email`, `items[2].quantity`.
///
/// Indices are zero-based, as in JSON Pointer and every JSON tool. Keys that are not plain words (a hostile body can
/// use any string as a key) are quoted and shortened, so a reason stays one readable line.
enum FieldPath {
    /// One step into a JSON value.
    enum Component: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    /// Keys longer than this are shown quoted and shortened.
    private static let plainKeyLimit = 64

    /// The path of a decoder's coding keys; JSONDecoder marks array positions with an integer value.
    static func render(_ codingPath: [any CodingKey]) -> String {
        render(
            codingPath.map { key in
                if let index = key.intValue { return .index(index) }
                return .key(key.stringValue)
            }
        )
    }

    /// The path of the given components; empty for the top level.
    static func render(_ components: [Component]) -> String {
        var out = ""
        for component in components {
            switch component {
            case .index(let index):
                out += "[\(index)]"
            case .key(let key) where isPlain(key):
                out += out.isEmpty ? key : "." + key
            case .key(let key):
                out += "[" + MessageRejection.quoted(key) + "]"
            }
        }
        return out
    }

    /// Whether a key can be shown as it is: ASCII letters, digits, `_` and `-`, not too long.
    private static func isPlain(_ key: String) -> Bool {
        guard !key.isEmpty, key.utf8.count <= plainKeyLimit else { return false }
        return key.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }
}
