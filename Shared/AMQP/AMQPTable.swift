import CRMSupport
internal import CRabbitMQ
import Foundation

/// Owns the C memory built for one librabbitmq call and frees it when the call's scope ends.
///
/// `amqp_cstring_bytes` would point at a Swift temporary; copying into memory this arena owns keeps
/// every pointer valid for exactly as long as the call needs it.
final class Arena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        for pointer in allocations { free(pointer) }
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        var utf8 = Array(string.utf8)
        return bytes(&utf8)
    }

    func bytes(_ raw: inout [UInt8]) -> amqp_bytes_t {
        guard !raw.isEmpty, let pointer = malloc(raw.count) else { return amqp_empty_bytes }
        raw.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        allocations.append(pointer)
        return amqp_bytes_t(len: raw.count, bytes: pointer)
    }

    func table(_ values: [String: AMQPHeaderValue]) -> amqp_table_t {
        guard !values.isEmpty else { return amqp_empty_table }
        let entries = allocate(amqp_table_entry_t.self, count: values.count)
        for (index, (key, value)) in values.sorted(by: { $0.key < $1.key }).enumerated() {
            entries[index] = amqp_table_entry_t(key: bytes(key), value: field(value))
        }
        return amqp_table_t(num_entries: Int32(values.count), entries: entries)
    }

    private func field(_ value: AMQPHeaderValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        switch value {
        case .string(let text):
            field.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
            field.value.bytes = bytes(text)
        case .int(let number):
            field.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
            field.value.i64 = number
        case .double(let number):
            field.kind = UInt8(AMQP_FIELD_KIND_F64.rawValue)
            field.value.f64 = number
        case .bool(let flag):
            field.kind = UInt8(AMQP_FIELD_KIND_BOOLEAN.rawValue)
            field.value.boolean = flag ? 1 : 0
        case .bytes(var raw):
            field.kind = UInt8(AMQP_FIELD_KIND_BYTES.rawValue)
            field.value.bytes = bytes(&raw)
        case .timestamp(let seconds):
            field.kind = UInt8(AMQP_FIELD_KIND_TIMESTAMP.rawValue)
            field.value.u64 = seconds
        case .array(let items):
            field.kind = UInt8(AMQP_FIELD_KIND_ARRAY.rawValue)
            let entries = allocate(amqp_field_value_t.self, count: max(items.count, 1))
            for (index, item) in items.enumerated() { entries[index] = self.field(item) }
            field.value.array = amqp_array_t(num_entries: Int32(items.count), entries: entries)
        case .table(let nested):
            field.kind = UInt8(AMQP_FIELD_KIND_TABLE.rawValue)
            field.value.table = table(nested)
        case .void:
            field.kind = UInt8(AMQP_FIELD_KIND_VOID.rawValue)
        }
        return field
    }

    private func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let raw = calloc(count, MemoryLayout<T>.stride)!
        allocations.append(raw)
        return raw.bindMemory(to: T.self, capacity: count)
    }
}

/// Client properties sent at login, so operators can tell connections apart in the management UI.
func withClientProperties<R>(_ connectionName: String, _ body: (UnsafePointer<amqp_table_t>) -> R) -> R {
    let arena = Arena()
    var table = arena.table([
        "connection_name": .string(connectionName),
        "product": .string("crm"),
        "capabilities": .table([
            "publisher_confirms": .bool(true),
            "consumer_cancel_notify": .bool(true),
            "connection.blocked": .bool(true),
        ]),
    ])
    return withUnsafePointer(to: &table) { body($0) }
}

extension AMQPHeaderValue {
    init(_ field: amqp_field_value_t) {
        switch UInt32(field.kind) {
        case AMQP_FIELD_KIND_UTF8.rawValue: self = .string(String(amqpBytes: field.value.bytes))
        case AMQP_FIELD_KIND_BYTES.rawValue:
            let bytes = field.value.bytes
            self = .bytes(bytes.bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: bytes.len)) } ?? [])
        case AMQP_FIELD_KIND_BOOLEAN.rawValue: self = .bool(field.value.boolean != 0)
        case AMQP_FIELD_KIND_I8.rawValue: self = .int(Int64(field.value.i8))
        case AMQP_FIELD_KIND_U8.rawValue: self = .int(Int64(field.value.u8))
        case AMQP_FIELD_KIND_I16.rawValue: self = .int(Int64(field.value.i16))
        case AMQP_FIELD_KIND_U16.rawValue: self = .int(Int64(field.value.u16))
        case AMQP_FIELD_KIND_I32.rawValue: self = .int(Int64(field.value.i32))
        case AMQP_FIELD_KIND_U32.rawValue: self = .int(Int64(field.value.u32))
        case AMQP_FIELD_KIND_I64.rawValue: self = .int(field.value.i64)
        case AMQP_FIELD_KIND_U64.rawValue: self = .int(Int64(clamping: field.value.u64))
        case AMQP_FIELD_KIND_F32.rawValue: self = .double(Double(field.value.f32))
        case AMQP_FIELD_KIND_F64.rawValue: self = .double(field.value.f64)
        case AMQP_FIELD_KIND_TIMESTAMP.rawValue: self = .timestamp(field.value.u64)
        case AMQP_FIELD_KIND_TABLE.rawValue: self = .table(Self.dictionary(field.value.table))
        case AMQP_FIELD_KIND_ARRAY.rawValue:
            let array = field.value.array
            self = .array((0..<Int(array.num_entries)).map { AMQPHeaderValue(array.entries[$0]) })
        default: self = .void
        }
    }

    static func dictionary(_ table: amqp_table_t) -> [String: AMQPHeaderValue] {
        guard table.num_entries > 0, let entries = table.entries else { return [:] }
        var result: [String: AMQPHeaderValue] = [:]
        for index in 0..<Int(table.num_entries) {
            result[String(amqpBytes: entries[index].key)] = AMQPHeaderValue(entries[index].value)
        }
        return result
    }
}

extension InboundMessage {
    init(envelope: amqp_envelope_t, generation: Int) {
        let properties = envelope.message.properties
        let flags = properties._flags
        func has(_ flag: Int32) -> Bool { flags & amqp_flags_t(flag) != 0 }
        let body = envelope.message.body
        self.init(
            body: body.bytes.map { Data(bytes: $0, count: body.len) } ?? Data(),
            exchange: String(amqpBytes: envelope.exchange),
            routingKey: String(amqpBytes: envelope.routing_key),
            headers: has(AMQP_BASIC_HEADERS_FLAG) ? AMQPHeaderValue.dictionary(properties.headers) : [:],
            contentType: has(AMQP_BASIC_CONTENT_TYPE_FLAG) ? String(amqpBytes: properties.content_type) : nil,
            messageID: has(AMQP_BASIC_MESSAGE_ID_FLAG) ? String(amqpBytes: properties.message_id) : nil,
            correlationID: has(AMQP_BASIC_CORRELATION_ID_FLAG) ? String(amqpBytes: properties.correlation_id) : nil,
            timestamp: has(AMQP_BASIC_TIMESTAMP_FLAG) ? properties.timestamp : nil,
            type: has(AMQP_BASIC_TYPE_FLAG) ? String(amqpBytes: properties.type) : nil,
            appID: has(AMQP_BASIC_APP_ID_FLAG) ? String(amqpBytes: properties.app_id) : nil,
            userID: has(AMQP_BASIC_USER_ID_FLAG) ? String(amqpBytes: properties.user_id) : nil,
            redelivered: envelope.redelivered != 0,
            deliveryTag: envelope.delivery_tag,
            generation: generation
        )
    }
}
