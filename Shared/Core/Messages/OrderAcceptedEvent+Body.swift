import Foundation

extension OrderAcceptedEvent {
    /// Validates the event and writes its body: the bytes `JSONEncoder` writes for it (sorted keys, slashes
    /// unescaped), without `JSONEncoder`.
    ///
    /// Intake writes one event per customer per batch, nearly one per order, and encoding them through `JSONEncoder`
    /// took a tenth of its processor time. Generic code reaches the protocol's `encodedBody()` instead; the tests
    /// hold the two to the same bytes.
    public func encodedBody() throws(MessageRejection) -> Data {
        try validate()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(96 + 24 * orderIDs.count)
        bytes.append(contentsOf: #"{"customer_id":"#.utf8)
        CanonicalOrderWriter.writeString(customerID.rawValue, &bytes)
        bytes.append(contentsOf: #","occurred_at":"#.utf8)
        CanonicalOrderWriter.writeString(occurredAt.rfc3339, &bytes)
        bytes.append(contentsOf: #","order_ids":["#.utf8)
        for (index, orderID) in orderIDs.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            CanonicalOrderWriter.writeString(orderID.rawValue, &bytes)
        }
        bytes.append(contentsOf: #"],"schema":"#.utf8)
        CanonicalOrderWriter.writeString(Self.schema, &bytes)
        bytes.append(UInt8(ascii: "}"))
        return Data(bytes)
    }
}
