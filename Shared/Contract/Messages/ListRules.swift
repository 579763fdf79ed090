/// The rule for the lists a message must fill with distinct entries: alert reasons, the customers of an
/// `order.accepted` message and each one's order ids.
enum ListRules {
    /// Checks that `entries` holds at least one entry and no `key` twice, after `each` has checked the entry at each
    /// position. A repeat is rejected at `field[index]`, or at `field[index].keyField` when the key is one member.
    static func checkDistinct<Entry, Key: Hashable>(
        _ entries: [Entry],
        field: String,
        key: (Entry) -> Key,
        keyField: String? = nil,
        each: (Entry, Int) throws(MessageRejection) -> Void = { _, _ in }
    ) throws(MessageRejection) {
        guard !entries.isEmpty else { throw MessageRejection(.invalidValue, field: field, "empty") }
        // One entry repeats nothing: most customers of an intake batch have one new order, and a set for each was
        // most of the time intake spent on its events.
        guard entries.count > 1 else { return try each(entries[0], 0) }
        var seen = Set<Key>(minimumCapacity: entries.count)
        for (index, entry) in entries.enumerated() {
            try each(entry, index)
            guard seen.insert(key(entry)).inserted else {
                throw MessageRejection(
                    .invalidValue,
                    field: "\(field)[\(index)]" + (keyField.map { ".\($0)" } ?? ""),
                    "repeated"
                )
            }
        }
    }
}
