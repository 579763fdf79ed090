import Foundation

// MARK: - The complaint as received, with routing beside it

extension RoutedComplaint {
    /// What routing adds to a complaint: these members are routing's, whatever the complaint held under their names.
    static let computedMembers: Set<String> = Set(CodingKeys.allNames).union(["body_truncated"])

    /// The most a routed complaint (escalations included) may take: the interface's 256 KiB, less room for an
    /// escalation level of more digits.
    static let maximumRoutedSize = MessageBody.maximumSize - 64

    /// The marker that ends a text cut to keep the routed complaint within the interface's 256 KiB.
    public static let truncationMarker = " […truncated]"

    /// The routed body for a desk: every member of the complaint `received` verbatim and in its order (the fields of
    /// the interface and any others, values as written, `received_at` in the sender's offset), its `schema`
    /// excepted, which becomes `routed-complaint.v1`; then routing's fields (`category`, ..., `escalation_level`).
    ///
    /// When that would pass 256 KiB, the longest of `body` and `subject` is cut to fit, ends with
    /// ``truncationMarker`` and `body_truncated` is `true`: what routing adds is bounded (labels, a customer snapshot,
    /// two times), so a complaint within the limit stays within it routed.
    public func encodedBody(received: Data) throws(MessageRejection) -> Data {
        let computed = try encodedBody()
        guard let own = JSONMembers.split([UInt8](computed)), var original = JSONMembers.split([UInt8](received)) else {
            return computed
        }
        original.members.removeAll { $0.name == "schema" || Self.computedMembers.contains($0.name) }
        let routing = own.members.filter { Self.computedMembers.contains($0.name) && $0.name != "schema" }
        let schema = own.members.filter { $0.name == "schema" }
        var result = JSONMembers(members: schema + original.members + routing)
        var size = result.bytes.count
        guard size > Self.maximumRoutedSize else { return Data(result.bytes) }
        // Cut the longest text to fit, then say so.
        let texts = ["body", "subject"].compactMap { name -> (Int, String, String)? in
            guard let index = result.members.firstIndex(where: { $0.name == name }),
                let value = name == "body" ? complaint.body : complaint.subject
            else { return nil }
            return (index, name, value)
        }
        guard let (index, name, text) = texts.max(by: { $0.2.utf8.count < $1.2.utf8.count }) else {
            throw MessageRejection(.tooLarge, field: "body", "larger than \(MessageBody.maximumSize) bytes routed")
        }
        do {
            result.members.append(try JSONMembers.member("body_truncated", true))
            size = result.bytes.count
            var kept = text
            while size > Self.maximumRoutedSize, !kept.isEmpty {
                let excess = size - Self.maximumRoutedSize
                // Escaped characters take more room than they hold: cut at least the excess, in characters.
                kept = String(kept.dropLast(max(excess / 2, 1)))
                result.members[index] = try JSONMembers.member(name, kept + Self.truncationMarker)
                size = result.bytes.count
            }
        } catch {
            throw MessageRejection(.invalidValue, field: "body", "could not be encoded")
        }
        guard size <= Self.maximumRoutedSize else {
            throw MessageRejection(.tooLarge, field: "body", "larger than \(MessageBody.maximumSize) bytes routed")
        }
        return Data(result.bytes)
    }

    /// A routed body again with another `escalation_level`, every other member as it stands.
    public static func escalated(_ routed: Data, to level: Int) throws(MessageRejection) -> Data {
        guard var members = JSONMembers.split([UInt8](routed)),
            let index = members.members.firstIndex(where: { $0.name == CodingKeys.escalationLevel.rawValue }),
            let member = try? JSONMembers.member(CodingKeys.escalationLevel.rawValue, level)
        else {
            var decoded = try decode(body: routed)
            decoded.escalationLevel = level
            return try decoded.encodedBody()
        }
        members.members[index] = member
        return Data(members.bytes)
    }
}

extension RoutedComplaint.CodingKeys {
    static var allNames: [String] {
        [
            Self.schema, .category, .severity, .priority, .desk, .matchedRule, .customer, .sla, .escalationLevel,
        ].map(\.rawValue)
    }
}
