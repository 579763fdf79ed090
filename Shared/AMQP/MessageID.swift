import Foundation

/// Fresh message ids: random (version 4) UUIDs in lower case.
///
/// Foundation's `UUID()` opens, reads and closes `/dev/urandom` on Linux for every id: one file open per message
/// that `crm load-orders` or any publisher sends without an id of its own. These come from the standard library's
/// system generator, which asks the kernel (`getrandom`) without opening a file.
public enum MessageID {
    /// A new id such as `0b5c6f5e-4f0a-4d3e-9a43-5d2f0e6c7b18`.
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        var bits = (generator.next() as UInt64, generator.next() as UInt64)
        var uuid = withUnsafeBytes(of: &bits) { $0.load(as: uuid_t.self) }
        uuid.6 = uuid.6 & 0x0f | 0x40  // version 4
        uuid.8 = uuid.8 & 0x3f | 0x80  // RFC 4122 variant
        return UUID(uuid: uuid).uuidString.lowercased()
    }
}
