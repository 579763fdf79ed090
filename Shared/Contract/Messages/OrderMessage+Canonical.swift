import CRMSupport

// MARK: - Canonical form

extension OrderMessage {
    /// The validated content of the order as canonical JSON, to tell a redelivery from a conflicting order.
    ///
    /// Intake stores a hash of this with the order; the same `order_id` arriving again with an equal canonical form
    /// is a harmless redelivery, with a different one a conflict. Equal here means equal content:
    /// - key order, white space and unknown members do not matter (only validated fields are written);
    /// - money is written by value (`"129.9"` and `129.90` both become `"129.90"`);
    /// - timestamps are written in UTC with milliseconds (`10:15+08:00` and `02:15Z` are one instant);
    /// - an absent `kind` is `purchase`, absent `items` are `[]`, and a `customer` with no fields is no customer.
    /// Item order does matter, as does any difference in text (no Unicode normalization is applied).
    ///
    /// The text must never change for the same content: stored hashes depend on it. ``canonicalValue`` states the
    /// form as a ``CanonicalJSON`` value; this writes the same bytes directly, members in their sorted order, and the
    /// tests hold the two to equality.
    public var canonicalJSON: String {
        var out = CanonicalOrderWriter()
        out.write(self)
        return out.text
    }

    /// The fingerprint of the order's content that intake stores (`orders.content_hash`): the MD5 of
    /// ``canonicalJSON`` in lower-case hex, as PostgreSQL's `md5()` writes it, computed on the canonical bytes.
    public var contentHash: String {
        var out = CanonicalOrderWriter()
        out.write(self)
        return out.md5Hex
    }

    /// The canonical form as a value: the specification ``canonicalJSON`` follows.
    var canonicalValue: CanonicalJSON {
        .object([
            ("schema", .string(Self.schema)),
            ("order_id", .string(orderID.rawValue)),
            ("customer_id", .string(customerID.rawValue)),
            ("occurred_at", .string(occurredAt.rfc3339)),
            ("kind", .string(kind.rawValue)),
            ("original_order_id", originalOrderID.map { .string($0.rawValue) }),
            ("amount", .string(amount.description)),
            ("currency", .string(currency.code)),
            ("cost", cost.map { .string($0.description) }),
            ("channel", channel.map { .string($0) }),
            ("customer", customer.flatMap(Self.canonical(_:))),
            ("items", .array(items.map(Self.canonical(_:)))),
        ])
    }

    private static func canonical(_ customer: OrderCustomer) -> CanonicalJSON? {
        guard !customer.isEmpty else { return nil }
        return .object([
            ("name", customer.name.map { .string($0) }),
            ("email", customer.email.map { .string($0) }),
            ("region", customer.region.map { .string($0) }),
            ("type", customer.type.map { .string($0.rawValue) }),
        ])
    }

    private static func canonical(_ item: OrderItem) -> CanonicalJSON {
        .object([
            ("sku", .string(item.sku)),
            ("quantity", .integer(item.quantity)),
            ("unit_price", item.unitPrice.map { .string($0.description) }),
            ("category", item.category.map { .string($0) }),
        ])
    }
}

/// Writes ``OrderMessage/canonicalValue`` as ``CanonicalJSON`` would, straight into bytes.
///
/// Members go out in the order `CanonicalJSON` sorts them (every name is ASCII, so UTF-16 order is byte order);
/// absent optionals are left out; strings are escaped as `CanonicalJSON` escapes them.
struct CanonicalOrderWriter {
    private var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(320)
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    var md5Hex: String { bytes.withUnsafeBytes { MD5.hex($0) } }

    mutating func write(_ order: OrderMessage) {
        var object = ObjectWriter()
        object.member("amount", order.amount.description, &bytes)
        object.member("channel", order.channel, &bytes)
        object.member("cost", order.cost?.description, &bytes)
        object.member("currency", order.currency.code, &bytes)
        if let customer = order.customer, !customer.isEmpty {
            object.key("customer", &bytes)
            write(customer)
        }
        object.member("customer_id", order.customerID.rawValue, &bytes)
        object.key("items", &bytes)
        bytes.append(UInt8(ascii: "["))
        for (index, item) in order.items.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            write(item)
        }
        bytes.append(UInt8(ascii: "]"))
        object.member("kind", order.kind.rawValue, &bytes)
        object.key("occurred_at", &bytes)
        order.occurredAt.appendQuotedRFC3339(to: &bytes)
        object.member("order_id", order.orderID.rawValue, &bytes)
        object.member("original_order_id", order.originalOrderID?.rawValue, &bytes)
        object.member("schema", OrderMessage.schema, &bytes)
        object.close(&bytes)
    }

    private mutating func write(_ customer: OrderCustomer) {
        var object = ObjectWriter()
        object.member("email", customer.email, &bytes)
        object.member("name", customer.name, &bytes)
        object.member("region", customer.region, &bytes)
        object.member("type", customer.type?.rawValue, &bytes)
        object.close(&bytes)
    }

    private mutating func write(_ item: OrderItem) {
        var object = ObjectWriter()
        object.member("category", item.category, &bytes)
        object.key("quantity", &bytes)
        bytes.append(contentsOf: String(item.quantity).utf8)
        object.member("sku", item.sku, &bytes)
        object.member("unit_price", item.unitPrice?.description, &bytes)
        object.close(&bytes)
    }

    /// The members of one object, written in the order the caller gives them.
    private struct ObjectWriter {
        private var count = 0

        mutating func key(_ name: StaticString, _ bytes: inout [UInt8]) {
            bytes.append(count == 0 ? UInt8(ascii: "{") : UInt8(ascii: ","))
            count += 1
            bytes.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }

        mutating func member(_ name: StaticString, _ value: String?, _ bytes: inout [UInt8]) {
            guard let value else { return }
            key(name, &bytes)
            CanonicalOrderWriter.writeString(value, &bytes)
        }

        func close(_ bytes: inout [UInt8]) {
            if count == 0 { bytes.append(UInt8(ascii: "{")) }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// A string as `CanonicalJSON` writes it: `"` `\` and controls escaped, everything else as its UTF-8 bytes.
    static func writeString(_ value: String, _ bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings hold nothing to escape: then their bytes go in whole.
        let plain = value.utf8.withContiguousStorageIfAvailable { utf8 in
            guard !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                return false
            }
            bytes.append(contentsOf: utf8)
            return true
        }
        if plain == true {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(contentsOf: [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
