import Foundation

/// Where a keyset page of `GET /customers` ended: the last customer's id and its value of the sort field.
///
/// Clients treat it as opaque (`next`, passed back as `after`). It is URL-safe base64 of a small JSON array
/// `["c1", sort, value, customer_id]`, so a cursor survives any id (commas, quotes, Chinese) and a cursor made for
/// another sort order is refused instead of silently skipping customers. The value is the sort key's text as
/// PostgreSQL wrote it, read back with the column's own type, so the next page starts exactly after it.
public struct CustomerCursor: Sendable, Hashable {
    /// The sort the cursor was made for (`clv.predicted:desc`).
    public var sort: String
    /// The last customer's value of the sort field (nil when it had none, or when sorting by id).
    public var value: String?
    public var customerID: String

    private static let version = "c1"

    public init(sort: String, value: String?, customerID: String) {
        self.sort = sort
        self.value = value
        self.customerID = customerID
    }

    /// The cursor's text for `next`.
    public var encoded: String {
        let array: [Any] = [Self.version, sort, value.map { $0 as Any } ?? NSNull(), customerID]
        let data = (try? JSONSerialization.data(withJSONObject: array, options: [.withoutEscapingSlashes])) ?? Data()
        return data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Reads a cursor from `after` for a list sorted by `sort`; refuses text that is not a cursor or was made for
    /// another sort.
    public init(decoding text: String, sort expected: CustomerSort) throws(CustomerSelectionError) {
        let invalid = CustomerSelectionError(parameter: "after", "not a cursor this API returned as next")
        guard !text.isEmpty, text.count <= 4096,
            text.utf8.allSatisfy({ byte in
                (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 45
                    || byte == 95
            })
        else { throw invalid }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64),
            let array = try? JSONSerialization.jsonObject(with: data) as? [Any], array.count == 4,
            array[0] as? String == Self.version, let sort = array[1] as? String,
            let customerID = array[3] as? String
        else { throw invalid }
        let value: String?
        switch array[2] {
        case let text as String: value = text
        case is NSNull: value = nil
        default: throw invalid
        }
        guard sort == expected.description else {
            throw CustomerSelectionError(parameter: "after", "the cursor belongs to sort \(sort), not \(expected)")
        }
        self.init(sort: sort, value: value, customerID: customerID)
    }
}
