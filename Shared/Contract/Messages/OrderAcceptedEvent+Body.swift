import Foundation

extension OrderAcceptedEvent {
    /// Validates the event and writes its body: the bytes `JSONEncoder` writes for it (sorted keys, slashes
    /// unescaped), without `JSONEncoder`.
    ///
    /// The members are written as `order.accepted.v2` writes its entries. Generic code reaches the protocol's
    /// `encodedBody()` instead; the tests hold the two to the same bytes.
    public func encodedBody() throws(MessageRejection) -> Data {
        try validate()
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(96 + 24 * orderIDs.count)
        entry.writeMembers(&bytes)
        bytes.append(contentsOf: #","schema":"#.utf8)
        CanonicalOrderWriter.writeString(Self.schema, &bytes)
        bytes.append(UInt8(ascii: "}"))
        return Data(bytes)
    }
}
