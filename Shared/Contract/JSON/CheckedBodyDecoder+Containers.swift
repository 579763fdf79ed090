import CRMSupport
import Foundation

// MARK: - Decoder

extension CheckedBodyDecoder: Decoder {
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        switch kind(at: value) {
        case .object:
            return KeyedDecodingContainer(
                KeyedContainer<Key>(decoder: self, codingPath: codingPath, members: members(of: value))
            )
        case .null:
            throw DecodingError.valueNotFound(
                [String: Any].self,
                .init(
                    codingPath: codingPath,
                    debugDescription: "Cannot get keyed decoding container -- found null value instead"
                )
            )
        default:
            throw mismatch([String: Any].self, at: value, key: nil)
        }
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch kind(at: value) {
        case .array:
            return UnkeyedContainer(decoder: self, codingPath: codingPath, elements: elements(of: value))
        case .null:
            throw DecodingError.valueNotFound(
                [Any].self,
                .init(
                    codingPath: codingPath,
                    debugDescription: "Cannot get unkeyed decoding container -- found null value instead"
                )
            )
        default:
            throw mismatch([Any].self, at: value, key: nil)
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }
}

extension CheckedBodyDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool { kind(at: value) == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try decodeBool(at: value, key: nil) }
    func decode(_ type: String.Type) throws -> String { try decodeString(at: value, key: nil) }
    func decode(_ type: Double.Type) throws -> Double { throw unsupported(type) }
    func decode(_ type: Float.Type) throws -> Float { throw unsupported(type) }
    func decode(_ type: Int.Type) throws -> Int { throw unsupported(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { throw unsupported(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { throw unsupported(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { throw unsupported(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { throw unsupported(type) }
    func decode(_ type: UInt.Type) throws -> UInt { throw unsupported(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { throw unsupported(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { throw unsupported(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { throw unsupported(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { throw unsupported(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type, at: value, key: nil) }
}

// MARK: - Containers

extension CheckedBodyDecoder {
    /// A class, not a struct: `KeyedDecodingContainer` keeps it in a box and copies it out for every call, and a
    /// copy of one reference costs less than a copy of three (BENCHMARKS.md, "Design choices").
    final class KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let decoder: CheckedBodyDecoder
        let codingPath: [any CodingKey]
        let members: [Member]

        init(decoder: CheckedBodyDecoder, codingPath: [any CodingKey], members: [Member]) {
            self.decoder = decoder
            self.codingPath = codingPath
            self.members = members
        }

        var allKeys: [Key] { members.compactMap { Key(stringValue: decoder.string(at: $0.key)) } }

        func contains(_ key: Key) -> Bool { lookUp(key) != nil }

        /// The last key looked up and what was found: a required member is asked for three times in a row
        /// (present? null? its value).
        private var lastLookUp: (name: String, offset: Int?)?

        private func lookUp(_ key: Key) -> Int? {
            let name = key.stringValue
            if let last = lastLookUp, last.name == name { return last.offset }
            var utf8 = name
            let offset = utf8.withUTF8 { utf8 -> Int? in
                let ascii = utf8.allSatisfy { $0 < 0x80 }
                for member in members where decoder.member(member, isNamed: name, utf8: utf8, ascii: ascii) {
                    return member.value
                }
                return nil
            }
            lastLookUp = (name, offset)
            return offset
        }

        private func value(for key: Key) throws -> Int {
            guard let offset = lookUp(key) else {
                throw DecodingError.keyNotFound(
                    key,
                    .init(
                        codingPath: codingPath,
                        debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."
                    )
                )
            }
            return offset
        }

        /// Runs `body` with the decoder positioned at this container, as nested decodes may have moved it.
        private func here<T>(_ body: () throws -> T) rethrows -> T {
            try decoder.with(value: 0, path: nil) {
                decoder.codingPath = codingPath
                return try body()
            }
        }

        func decodeNil(forKey key: Key) throws -> Bool { decoder.kind(at: try value(for: key)) == .null }

        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
            let offset = try value(for: key)
            return try here { try decoder.decodeBool(at: offset, key: key) }
        }

        func decode(_ type: String.Type, forKey key: Key) throws -> String {
            let offset = try value(for: key)
            return try here { try decoder.decodeString(at: offset, key: key) }
        }

        func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
            guard let offset = lookUp(key), decoder.kind(at: offset) != .null else { return nil }
            return try here { try decoder.decodeString(at: offset, key: key) }
        }

        func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
            guard let offset = lookUp(key), decoder.kind(at: offset) != .null else { return nil }
            return try here { try decoder.decodeBool(at: offset, key: key) }
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            let offset = try value(for: key)
            return try here { try decoder.decodeValue(type, at: offset, key: key) }
        }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            guard let offset = lookUp(key), decoder.kind(at: offset) != .null else { return nil }
            return try here { try decoder.decodeValue(type, at: offset, key: key) }
        }

        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { throw decoder.unsupported(type) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw decoder.unsupported(type) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { throw decoder.unsupported(type) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { throw decoder.unsupported(type) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { throw decoder.unsupported(type) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { throw decoder.unsupported(type) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { throw decoder.unsupported(type) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { throw decoder.unsupported(type) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { throw decoder.unsupported(type) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { throw decoder.unsupported(type) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { throw decoder.unsupported(type) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { throw decoder.unsupported(type) }
        func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { throw decoder.unsupported(type) }

        func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type,
            forKey key: Key
        ) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            let offset = try value(for: key)
            return try here { try decoder.with(value: offset, path: key) { try decoder.container(keyedBy: type) } }
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            let offset = try value(for: key)
            return try here { try decoder.with(value: offset, path: key) { try decoder.unkeyedContainer() } }
        }

        func superDecoder() throws -> any Decoder { throw decoder.unsupported((any Decoder).self) }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw decoder.unsupported((any Decoder).self) }
    }

    /// An array's position as a coding key, as `JSONDecoder` writes it: `Index 2`, with the integer 2.
    struct IndexKey: CodingKey {
        var stringValue: String { "Index \(index)" }
        var intValue: Int? { index }
        let index: Int
        init(index: Int) { self.index = index }
        init?(stringValue: String) { nil }
        init?(intValue: Int) { self.index = intValue }
    }

    struct UnkeyedContainer: UnkeyedDecodingContainer {
        let decoder: CheckedBodyDecoder
        let codingPath: [any CodingKey]
        let elements: [Int]
        private(set) var currentIndex = 0

        init(decoder: CheckedBodyDecoder, codingPath: [any CodingKey], elements: [Int]) {
            self.decoder = decoder
            self.codingPath = codingPath
            self.elements = elements
        }

        var count: Int? { elements.count }
        var isAtEnd: Bool { currentIndex >= elements.count }

        private func next(_ type: Any.Type) throws -> Int {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(
                    type,
                    .init(
                        codingPath: codingPath + [IndexKey(index: currentIndex)],
                        debugDescription: "Unkeyed container is at end."
                    )
                )
            }
            return elements[currentIndex]
        }

        private func here<T>(_ body: () throws -> T) rethrows -> T {
            try decoder.with(value: 0, path: nil) {
                decoder.codingPath = codingPath
                return try body()
            }
        }

        mutating func decodeNil() throws -> Bool {
            guard decoder.kind(at: try next(Never.self)) == .null else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode(_ type: Bool.Type) throws -> Bool {
            try step(type) { [decoder] offset, key in try decoder.decodeBool(at: offset, key: key) }
        }

        mutating func decode(_ type: String.Type) throws -> String {
            try step(type) { [decoder] offset, key in try decoder.decodeString(at: offset, key: key) }
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try step(type) { [decoder] offset, key in try decoder.decodeValue(type, at: offset, key: key) }
        }

        /// Decodes the next element with `body`, given its offset and its path key, then moves past it.
        private mutating func step<T>(_ type: Any.Type, _ body: (Int, IndexKey) throws -> T) throws -> T {
            let offset = try next(type)
            let key = IndexKey(index: currentIndex)
            let result = try here { try body(offset, key) }
            currentIndex += 1
            return result
        }

        mutating func decode(_ type: Double.Type) throws -> Double { throw decoder.unsupported(type) }
        mutating func decode(_ type: Float.Type) throws -> Float { throw decoder.unsupported(type) }
        mutating func decode(_ type: Int.Type) throws -> Int { throw decoder.unsupported(type) }
        mutating func decode(_ type: Int8.Type) throws -> Int8 { throw decoder.unsupported(type) }
        mutating func decode(_ type: Int16.Type) throws -> Int16 { throw decoder.unsupported(type) }
        mutating func decode(_ type: Int32.Type) throws -> Int32 { throw decoder.unsupported(type) }
        mutating func decode(_ type: Int64.Type) throws -> Int64 { throw decoder.unsupported(type) }
        mutating func decode(_ type: UInt.Type) throws -> UInt { throw decoder.unsupported(type) }
        mutating func decode(_ type: UInt8.Type) throws -> UInt8 { throw decoder.unsupported(type) }
        mutating func decode(_ type: UInt16.Type) throws -> UInt16 { throw decoder.unsupported(type) }
        mutating func decode(_ type: UInt32.Type) throws -> UInt32 { throw decoder.unsupported(type) }
        mutating func decode(_ type: UInt64.Type) throws -> UInt64 { throw decoder.unsupported(type) }

        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type
        ) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            try step(KeyedDecodingContainer<NestedKey>.self) { [decoder] offset, key in
                try decoder.with(value: offset, path: key) { try decoder.container(keyedBy: type) }
            }
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            try step((any UnkeyedDecodingContainer).self) { [decoder] offset, key in
                try decoder.with(value: offset, path: key) { try decoder.unkeyedContainer() }
            }
        }

        mutating func superDecoder() throws -> any Decoder { throw decoder.unsupported((any Decoder).self) }
    }
}
