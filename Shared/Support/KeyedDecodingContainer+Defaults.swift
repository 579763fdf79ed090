extension KeyedDecodingContainer {
    /// Decodes `key` when present and falls back to `defaultValue`, so a settings file names only what it changes.
    public func decode<Value: Decodable>(_ key: Key, default defaultValue: Value) throws -> Value {
        try decodeIfPresent(Value.self, forKey: key) ?? defaultValue
    }

    /// Like ``decode(_:default:)`` for an optional setting, where an explicit `null` switches it off.
    public func decodeOptional<Value: Decodable>(_ key: Key, default defaultValue: Value?) throws -> Value? {
        contains(key) ? try decodeIfPresent(Value.self, forKey: key) : defaultValue
    }
}
